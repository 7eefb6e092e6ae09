package fxforge_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

// limits is the app's own configuration, from which the gateway's settings
// are built.
type limits struct{ readLimit int64 }

// NewWSConfig builds the gateway settings from the app's configuration, as
// an fx constructor with an injected dependency.
func NewWSConfig(l *limits) wsgateway.Config {
	return wsgateway.Config{ReadLimit: l.readLimit}
}

// echoes reports whether a message of n bytes comes back from the gateway at
// url, or the close code the client saw instead.
func echoes(t *testing.T, url string, n int) (bool, websocket.StatusCode) {
	t.Helper()
	c, _ := wstest.Dial(t, url, nil)
	wstest.Read(t, c) // the greeting
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg := strings.Repeat("x", n)
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return false, websocket.CloseStatus(err)
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		return false, websocket.CloseStatus(err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	return string(data) == msg, 0
}

func TestGatewayConfigComesFromTheGraphAndTestsReplaceIt(t *testing.T) {
	base := []fx.Option{
		fxforge.Provide(newAppConfig),
		fx.Supply(&limits{readLimit: 64}),
		fx.Provide(NewWSConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	}
	for _, tc := range []struct {
		name  string
		extra []fx.Option
		echo  bool
	}{
		{"the constructor's ReadLimit", nil, false},
		{"fx.Replace", []fx.Option{fx.Replace(wsgateway.Config{ReadLimit: 4096})}, true},
		{"fx.Decorate", []fx.Option{fx.Decorate(func(c wsgateway.Config) wsgateway.Config { c.ReadLimit *= 64; return c })}, true},
		{"fx.Replace of the constructor's input", []fx.Option{fx.Replace(&limits{readLimit: 1 << 20})}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, url := startApp(t, append(base, tc.extra...)...)
			defer app.RequireStop()
			ok, code := echoes(t, url+"/ws", 100)
			if tc.echo && !ok {
				t.Fatalf("100 bytes were not echoed (close %d)", code)
			}
			if !tc.echo && code != websocket.StatusMessageTooBig {
				t.Fatalf("100 bytes over a 64-byte limit: echoed %v, close %d; want 1009", ok, code)
			}
		})
	}
}

func TestDecoratedOriginRuleReachesTheServer(t *testing.T) {
	base := []fx.Option{
		fxforge.Provide(newAppConfig),
		fx.Supply(wsgateway.Config{}),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/ws"),
	}
	header := http.Header{"Origin": {"https://app.example"}}
	for _, tc := range []struct {
		name   string
		extra  []fx.Option
		status int
	}{
		{"same origin only", nil, http.StatusForbidden},
		{"decorated", []fx.Option{fx.Decorate(func(c wsgateway.Config) wsgateway.Config {
			c.OriginPatterns = append(c.OriginPatterns, "app.example")
			return c
		})}, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, url := startApp(t, append(base, tc.extra...)...)
			defer app.RequireStop()
			c, resp, err := dialWith(url+"/ws", header)
			if c != nil {
				c.CloseNow()
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("status %v (%v), want %d", resp, err, tc.status)
			}
		})
	}
}

func TestWithConfigGivesAModuleItsOwnConfig(t *testing.T) {
	app, url := startApp(t,
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/small", fxforge.WithConfig(func(l *limits) wsgateway.Config {
			return wsgateway.Config{ReadLimit: l.readLimit}
		})),
		fx.Supply(&limits{readLimit: 64}),
		fxforge.WebSocketModule("/large"), // no Config in the graph: the defaults
	)
	defer app.RequireStop()
	if ok, code := echoes(t, url+"/small", 100); ok || code != websocket.StatusMessageTooBig {
		t.Errorf("/small: echoed %v, close %d; want 1009", ok, code)
	}
	if ok, code := echoes(t, url+"/large", 100); !ok {
		t.Errorf("/large: close %d, want an echo", code)
	}
}

func TestModuleConfigMistakesFailClearly(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []fx.Option
		want []string
	}{
		{"a mutator function", []fx.Option{fxforge.WebSocketModule("/ws", fxforge.WithConfig(func(c *wsgateway.Config) {}))},
			[]string{"fx constructor", "func() wsgateway.Config"}},
		{"a constructor of something else", []fx.Option{fxforge.WebSocketModule("/ws", fxforge.WithConfig(func() *wsgateway.Config { return nil }))},
			[]string{"must return a wsgateway.Config value"}},
		{"a second path", []fx.Option{fx.Supply(wsgateway.Config{Path: "/other"}), fxforge.WebSocketModule("/ws")},
			[]string{`Path "/other"`, "leave Config.Path empty"}},
		{"a ShutdownTimeout", []fx.Option{fx.Supply(wsgateway.Config{ShutdownTimeout: time.Minute}), fxforge.WebSocketModule("/ws")},
			[]string{"ShutdownTimeout", "fx.StopTimeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fx.New(append([]fx.Option{fx.NopLogger, fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), fxforge.Gateway(newChatGateway)}, tc.opts...)...).Err()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestEnvironmentIsReadWhenTheAppIsBuilt(t *testing.T) {
	server := fxforge.HTTPServer()
	logger := fxforge.Logger()
	t.Setenv("PORT", "not-a-port")
	t.Setenv("LOG_LEVEL", "chatty")

	err := fx.New(fx.NopLogger, logger, fx.Invoke(func(*zap.Logger) {})).Err()
	if err == nil || !strings.Contains(err.Error(), `LOG_LEVEL "chatty"`) {
		t.Fatalf("Logger built before LOG_LEVEL was set: err = %v", err)
	}

	app := fx.New(fx.NopLogger, server)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = app.Start(ctx)
	if err == nil {
		app.Stop(ctx)
		t.Fatal("started on PORT=not-a-port")
	}
	if !strings.Contains(err.Error(), ":not-a-port") {
		t.Fatalf("HTTPServer built before PORT was set: err = %v", err)
	}
}
