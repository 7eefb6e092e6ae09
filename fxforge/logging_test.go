package fxforge_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

// startLoggedApp starts an app that logs to an observer, at debug level,
// and returns the logs and the server's base URL.
func startLoggedApp(t *testing.T, opts ...fx.Option) (*fxtest.App, *observer.ObservedLogs, string) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	var srv *fxforge.Server
	app := fxtest.New(t, append(opts,
		fx.NopLogger,
		fx.Supply(zap.New(core)),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fx.Populate(&srv),
	)...)
	app.RequireStart()
	return app, logs, "http://" + srv.Addr().String()
}

func TestUpgradeRefusalsAreLoggedAtInfoWithRequestIDAndReasonButNoToken(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	verify := func(_ context.Context, tok string) (*identity.Identity, error) {
		if tok == "admin" {
			return &identity.Identity{Subject: "ada", Roles: []string{"admin"}}, nil
		}
		if tok == "user" {
			return &identity.Identity{Subject: "bob"}, nil
		}
		return nil, errors.New("unknown token " + tok)
	}
	app, logs, base := startLoggedApp(t,
		fx.Supply(fx.Annotate(identity.Bearer(verify), fx.As(new(identity.Authenticator)))),
		fxforge.Gateway(newChatGateway),
		fxforge.WebSocketModule("/ws", fxforge.WithConfig(func() wsgateway.Config {
			return wsgateway.Config{Guards: []identity.Guard{identity.AnyRole("admin")}}
		})),
		fxforge.WebSocketModule("/one", fxforge.WithConfig(func() wsgateway.Config { return wsgateway.Config{MaxConnections: 1} })),
	)
	defer app.RequireStop()

	upgrade := func(path, token, origin string) *http.Response {
		t.Helper()
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+path, &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			t.Cleanup(func() { _ = c.CloseNow() })
		}
		return resp
	}
	// The one connection /one allows, so the next one gets 503.
	if resp := upgrade("/one", "user", ""); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first connection to /one: %d", resp.StatusCode)
	}
	tests := []struct {
		name, path, token, origin string
		status                    int
		reason                    string
	}{
		{"no credentials", "/ws", "", "", 401, "authentication required"},
		{"invalid token", "/ws", secret, "", 401, "invalid credentials"},
		{"missing role", "/ws", "user", "", 403, "requires one of the roles: admin"},
		{"foreign origin", "/ws", "admin", "https://evil\u009b.example", 403, `origin "https://evil\u009b.example" is not allowed`},
		{"connection limit", "/one", "user", "", 503, "connection limit reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := upgrade(tt.path, tt.token, tt.origin)
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response %v, want %d", resp, tt.status)
			}
			reqID := resp.Header.Get(identity.HeaderRequestID)
			lines := logs.FilterMessage("upgrade refused").FilterField(zap.String("request_id", reqID)).All()
			if len(lines) != 1 {
				t.Fatalf("%d refusal lines for request %s, want 1", len(lines), reqID)
			}
			l := lines[0]
			fields := l.ContextMap()
			if l.Level != zapcore.InfoLevel || fields["status"] != int64(tt.status) || !strings.Contains(fields["reason"].(string), tt.reason) {
				t.Errorf("logged %s %v, want info with status %d and reason %q", l.Level, fields, tt.status, tt.reason)
			}
			if strings.ContainsRune(fields["reason"].(string), '\u009b') {
				t.Errorf("reason carries a raw U+009B: %q", fields["reason"])
			}
		})
	}
	for _, l := range logs.All() {
		if strings.Contains(l.Message, secret) || strings.Contains(strings.Join(fieldStrings(l), " "), secret) {
			t.Errorf("the token reached the log: %s %v", l.Message, l.ContextMap())
		}
	}
}

func fieldStrings(l observer.LoggedEntry) []string {
	var out []string
	for k, v := range l.ContextMap() {
		if s, ok := v.(string); ok {
			out = append(out, k+"="+s)
		}
	}
	return out
}

func TestShutdownIsLoggedWhenItBeginsAndEndsWithCounts(t *testing.T) {
	app, logs, base := startLoggedApp(t,
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	)
	for range 2 {
		c, _ := wstest.Dial(t, base+"/ws", nil)
		wstest.Read(t, c)
	}
	app.RequireStop()

	begin := logs.FilterMessage("HTTP server shutting down").All()
	end := logs.FilterMessage("HTTP server stopped").All()
	if len(begin) != 1 || len(end) != 1 {
		t.Fatalf("%d begin and %d end lines, want 1 each", len(begin), len(end))
	}
	if n := begin[0].ContextMap()["connections"]; begin[0].Level != zapcore.InfoLevel || n != int64(2) {
		t.Errorf("begin line: %s connections=%v, want info with 2", begin[0].Level, n)
	}
	f := end[0].ContextMap()
	if end[0].Level != zapcore.InfoLevel || f["connections_closed"] != int64(2) || f["duration"] == nil || f["addr"] == nil {
		t.Errorf("end line: %s %v, want info with connections_closed=2, duration and addr", end[0].Level, f)
	}
}
