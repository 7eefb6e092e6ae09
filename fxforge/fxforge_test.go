package fxforge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

type appConfig struct{ Name string }

func newAppConfig() *appConfig { return &appConfig{Name: "demo"} }

// greeter is a gateway built by constructor injection that also resolves
// through its context.
type greeter struct {
	prefix string
	cfg    *appConfig
}

func newGreeter(cfg *appConfig) *greeter { return &greeter{prefix: "connected:", cfg: cfg} }

func (g *greeter) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	resolved, err := wsgateway.Resolve[*appConfig](ctx)
	if err != nil {
		return err
	}
	if resolved != g.cfg {
		return errors.New("resolved a different *appConfig than was injected")
	}
	if err := conn.WriteText(g.prefix + ctx.RequestID()); err != nil {
		return err
	}
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if err := conn.Write(typ, data); err != nil {
			return err
		}
	}
}

type chatGateway struct{}

func newChatGateway() *chatGateway { return &chatGateway{} }

func (chatGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if err := conn.WriteText("chat:" + ctx.RequestID()); err != nil {
		return err
	}
	_, _, err := conn.Read(ctx)
	return err
}

// startApp starts an fxtest app on a free loopback port and returns the
// HTTP base URL.
func startApp(t *testing.T, opts ...fx.Option) (*fxtest.App, string) {
	t.Helper()
	var srv *fxforge.Server
	app := fxtest.New(t, append(opts,
		fx.Supply(zap.NewNop()),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fx.Populate(&srv),
	)...)
	app.RequireStart()
	return app, "http://" + srv.Addr().String()
}

func TestGatewayGreetsWithRequestIDThroughFx(t *testing.T) {
	app, base := startApp(t,
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	)
	defer app.RequireStop()
	c, resp := wstest.Dial(t, base+"/ws", nil)
	if got, want := wstest.Read(t, c), "connected:"+resp.Header.Get(identity.HeaderRequestID); got != want {
		t.Fatalf("greeting %q, want %q", got, want)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestTwoModulesAtTwoPaths(t *testing.T) {
	app, base := startApp(t,
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("events"),
		fxforge.WebSocketModule("/chat", fxforge.WithGateway(newChatGateway)),
	)
	defer app.RequireStop()
	events, _ := wstest.Dial(t, base+"/events", nil)
	chat, _ := wstest.Dial(t, base+"/chat", nil)
	if got := wstest.Read(t, events); !strings.HasPrefix(got, "connected:") {
		t.Fatalf("/events greeting %q", got)
	}
	if got := wstest.Read(t, chat); !strings.HasPrefix(got, "chat:") {
		t.Fatalf("/chat greeting %q", got)
	}
	events.Close(websocket.StatusNormalClosure, "")
	chat.Close(websocket.StatusNormalClosure, "")
}

func TestWebSocketModuleWithoutGatewayFailsClearly(t *testing.T) {
	app := fx.New(fx.NopLogger, fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), fxforge.WebSocketModule("/ws"))
	err := app.Err()
	if err == nil || !strings.Contains(err.Error(), "fxforge.Gateway(") {
		t.Fatalf("err = %v, want one that says how to add a gateway", err)
	}
}

func TestRouteGetsRequestIDIdentityAndResolution(t *testing.T) {
	verify := func(_ context.Context, tok string) (*identity.Identity, error) {
		return &identity.Identity{Subject: tok}, nil
	}
	app, base := startApp(t,
		fxforge.Provide(newAppConfig),
		fx.Supply(fx.Annotate(identity.Bearer(verify), fx.As(new(identity.Authenticator)))),
		fxforge.Route("GET /whoami", func(cfg *appConfig) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				resolved, err := wsgateway.Resolve[*appConfig](r.Context())
				if err != nil || resolved != cfg {
					http.Error(w, fmt.Sprint("resolve: ", err), 500)
					return
				}
				id, _ := identity.FromContext(r.Context())
				subject := "anonymous"
				if id != nil {
					subject = id.Subject
				}
				fmt.Fprintf(w, "%s %s %s", cfg.Name, subject, identity.RequestID(r.Context()))
			}
		}, fxforge.WithAuth()),
		fxforge.Route("GET /health", func() http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
		}),
	)
	defer app.RequireStop()

	req, _ := http.NewRequest(http.MethodGet, base+"/whoami", nil)
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set(identity.HeaderRequestID, "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); got != "demo alice abc-123" || resp.Header.Get(identity.HeaderRequestID) != "abc-123" {
		t.Fatalf("body %q, header %q", got, resp.Header.Get(identity.HeaderRequestID))
	}

	resp, err = http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(identity.HeaderRequestID) == "" {
		t.Fatalf("/health: %d, request id %q", resp.StatusCode, resp.Header.Get(identity.HeaderRequestID))
	}
}

func TestBusyPortFailsStartNamingTheAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	app := fx.New(fx.NopLogger, fxforge.HTTPServer(fxforge.Addr(addr)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = app.Start(ctx)
	if err == nil {
		app.Stop(ctx)
		t.Fatal("Start succeeded on a busy port")
	}
	for _, want := range []string{addr, "PORT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStopClosesOpenSocketsWith1001InTime(t *testing.T) {
	app, base := startApp(t,
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	)
	var conns []*websocket.Conn
	for range 20 {
		c, _ := wstest.Dial(t, base+"/ws", nil)
		wstest.Read(t, c)
		conns = append(conns, c)
	}
	codes := make(chan websocket.StatusCode, len(conns))
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					codes <- websocket.CloseStatus(err)
					return
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := app.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Stop took %s", d)
	}
	for range conns {
		if code := <-codes; code != websocket.StatusGoingAway {
			t.Fatalf("client saw close code %d, want 1001", code)
		}
	}
	if _, err := http.Get(base + "/ws"); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestProvideRejectsNonConstructor(t *testing.T) {
	app := fx.New(fx.NopLogger, fxforge.Provide(42))
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "fxforge.Provide") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoggerRejectsUnknownLevel(t *testing.T) {
	app := fx.New(fxforge.Logger(fxforge.LogLevel("chatty")), fx.Invoke(func(*zap.Logger) {}))
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Fatalf("err = %v", err)
	}
}

func TestRequestLogLinesCarryRequestIDAndNoQuery(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	var srv *fxforge.Server
	app := fxtest.New(t,
		fx.Supply(zap.New(core)),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Route("GET /ping", func() http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }
		}),
		fx.Populate(&srv),
	)
	app.RequireStart()
	defer app.RequireStop()
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr().String()+"/ping?access_token=secret", nil)
	req.Header.Set(identity.HeaderRequestID, "trace-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := logs.FilterMessage("http request").All()
	if len(lines) != 1 {
		t.Fatalf("%d request lines", len(lines))
	}
	f := lines[0].ContextMap()
	if f["request_id"] != "trace-1" || f["status"] != int64(http.StatusTeapot) || f["path"] != "/ping" {
		t.Fatalf("fields %v", f)
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), "secret") {
			t.Fatalf("query leaked into %v", e.ContextMap())
		}
	}
}

func TestSlowHandshakeIsDropped(t *testing.T) {
	var srv *fxforge.Server
	app := fxtest.New(t,
		fx.Supply(zap.NewNop()),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0"), fxforge.ReadHeaderTimeout(100*time.Millisecond)),
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
		fx.Populate(&srv),
	)
	app.RequireStart()
	defer app.RequireStop()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n") // and never finishes
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept a half-open handshake for 5 s")
	}
}

func TestGatewayAuthenticatesOncePerUpgradeAndRefusesWithJSON(t *testing.T) {
	var calls atomic.Int32
	verify := func(_ context.Context, tok string) (*identity.Identity, error) {
		calls.Add(1)
		if tok != "good" {
			return nil, errors.New("nope")
		}
		return &identity.Identity{Subject: "ada"}, nil
	}
	app, base := startApp(t,
		fxforge.Provide(newAppConfig),
		fx.Supply(fx.Annotate(identity.Bearer(verify), fx.As(new(identity.Authenticator)))),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	)
	defer app.RequireStop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer good"}}})
	if err != nil {
		t.Fatal(err)
	}
	wstest.Read(t, c)
	c.Close(websocket.StatusNormalClosure, "")
	if n := calls.Load(); n != 1 {
		t.Fatalf("verify ran %d times for one upgrade", n)
	}

	resp, err := http.Post(base+"/ws", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body identity.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusMethodNotAllowed || body.RequestID == "" {
		t.Fatalf("POST /ws: %d %+v %v", resp.StatusCode, body, err)
	}
}

func TestRouteGuardsReuseTheIdentityFxforgeAuthenticated(t *testing.T) {
	var calls atomic.Int32
	auth := identity.Bearer(func(_ context.Context, tok string) (*identity.Identity, error) {
		calls.Add(1)
		return &identity.Identity{Subject: tok, Roles: []string{"admin"}}, nil
	})
	app, base := startApp(t,
		fx.Supply(fx.Annotate(auth, fx.As(new(identity.Authenticator)))),
		fxforge.Route("GET /admin", func(auth identity.Authenticator) http.Handler {
			return identity.Middleware(auth, identity.AnyRole("admin"))(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		}),
	)
	defer app.RequireStop()
	req, _ := http.NewRequest(http.MethodGet, base+"/admin", nil)
	req.Header.Set("Authorization", "Bearer ada")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || calls.Load() != 1 {
		t.Fatalf("status %d, verify ran %d times", resp.StatusCode, calls.Load())
	}
}
