package fxmetrics_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/wsgateway"
)

// holdingGateway keeps a connection's shutdown going until the test
// releases it: once the connection ends, OnConnect reports it on closing
// and waits for release before it returns.
type holdingGateway struct {
	closing chan struct{}
	release chan struct{}
}

func newHoldingGateway() *holdingGateway {
	return &holdingGateway{closing: make(chan struct{}), release: make(chan struct{})}
}

func (g *holdingGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
	}
	close(g.closing)
	<-g.release
	return nil
}

// connectCounted opens a WebSocket to base+"/ws", waits until the metrics
// at probes count it, and returns the close code the client will see.
func connectCounted(t *testing.T, base, probes string) <-chan websocket.StatusCode {
	t.Helper()
	closed := readUntilClosed(dial(t, base, "/ws"))
	eventually(t, "the connection to be counted", func() bool {
		families, _ := scrape(t, probes+"/metrics")
		v, _ := value(families, "fxforge_ws_connections", "path=/ws")
		return v == 1
	})
	return closed
}

// readUntilClosed reads c until it ends and sends the close code.
func readUntilClosed(c *websocket.Conn) <-chan websocket.StatusCode {
	code := make(chan websocket.StatusCode, 1)
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				code <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	return code
}

func within(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// probeURL returns where the readiness probe is served: on the metrics
// server when the app has one, else on the app server.
func probeURL(app *fxforge.Server, own *fxmetrics.Server) string {
	if own != nil {
		return "http://" + own.Addr().String()
	}
	return "http://" + app.Addr().String()
}

func TestReadyzIs503WhileStartingAndWhileStopping(t *testing.T) {
	tests := []struct {
		name    string
		metrics fx.Option
		own     bool
	}{
		{"on the app server", fxmetrics.Module, false},
		{"on a server of its own", fxmetrics.Metrics(fxmetrics.Addr("127.0.0.1:0")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type probed struct {
				status int
				body   string
			}
			var onStart, onStop probed
			// A hook that fx runs after the servers have started and before
			// the readiness hook, and so stops after it: it sees the app
			// starting, then draining.
			type probeIn struct {
				fx.In
				Lifecycle fx.Lifecycle
				App       *fxforge.Server
				Own       *fxmetrics.Server `optional:"true"`
			}
			probe := fx.Module("probe", fx.Invoke(func(in probeIn) {
				in.Lifecycle.Append(fx.Hook{
					OnStart: func(context.Context) error {
						onStart.status, onStart.body = get(t, probeURL(in.App, in.Own)+"/readyz")
						return nil
					},
					OnStop: func(context.Context) error {
						onStop.status, onStop.body = get(t, probeURL(in.App, in.Own)+"/readyz")
						return nil
					},
				})
			}))
			var appSrv *fxforge.Server
			var own *fxmetrics.Server
			opts := []fx.Option{probe, tt.metrics, fx.Populate(&appSrv)}
			if tt.own {
				opts = append(opts, fx.Populate(&own))
			}
			app, _ := startApp(t, opts...)
			url := probeURL(appSrv, own) + "/readyz"
			if status, body := get(t, url); status != http.StatusOK || body != "ready\n" {
				t.Errorf("started: %d %q, want 200 ready", status, body)
			}
			app.RequireStop()
			if onStart.status != http.StatusServiceUnavailable || onStart.body != "starting\n" {
				t.Errorf("while starting: %d %q, want 503 starting", onStart.status, onStart.body)
			}
			if onStop.status != http.StatusServiceUnavailable || onStop.body != "draining\n" {
				t.Errorf("while stopping: %d %q, want 503 draining", onStop.status, onStop.body)
			}
		})
	}
}

func TestReadyzIs503DuringGracefulStopWhileAWebSocketIsOpen(t *testing.T) {
	// forceServerEarly builds the app's server before fxmetrics' options
	// run, the way an app's own invoke might.
	forceServerEarly := fx.Module("early", fx.Invoke(func(*fxforge.Server) {}))
	tests := []struct {
		name string
		opts []fx.Option
		own  bool
	}{
		{"on the app server, metrics listed first", []fx.Option{fxmetrics.Module, fxforge.WebSocketModule("/ws")}, false},
		{"on the app server, metrics listed last", []fx.Option{forceServerEarly, fxforge.WebSocketModule("/ws"), fxmetrics.Module}, false},
		{"on a server of its own, metrics listed first", []fx.Option{fxmetrics.Metrics(fxmetrics.Addr("127.0.0.1:0")), fxforge.WebSocketModule("/ws")}, true},
		{"on a server of its own, metrics listed last", []fx.Option{forceServerEarly, fxforge.WebSocketModule("/ws"), fxmetrics.Metrics(fxmetrics.Addr("127.0.0.1:0"))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := newHoldingGateway()
			var appSrv *fxforge.Server
			var own *fxmetrics.Server
			opts := append([]fx.Option{fxforge.Gateway(func() *holdingGateway { return gw }), fx.Populate(&appSrv)}, tt.opts...)
			if tt.own {
				opts = append(opts, fx.Populate(&own))
			}
			app, base := startApp(t, opts...)
			probes := probeURL(appSrv, own)
			closed := connectCounted(t, base, probes)

			stopped := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				stopped <- app.Stop(ctx)
			}()
			within(t, "the gateway to see its connection end", gw.closing)

			// The gateway still holds the shutdown: the server still counts
			// the connection, and the probes still answer.
			if status, body := get(t, probes+"/readyz"); status != http.StatusServiceUnavailable || body != "draining\n" {
				t.Errorf("/readyz while draining: %d %q, want 503 draining", status, body)
			}
			if status, _ := get(t, probes+"/healthz"); status != http.StatusOK {
				t.Errorf("/healthz while draining: %d, want 200", status)
			}
			families, _ := scrape(t, probes+"/metrics")
			if v, _ := value(families, "fxforge_ws_connections", "path=/ws"); v != 1 {
				t.Errorf("fxforge_ws_connections while the gateway holds = %v, want 1", v)
			}
			if code := <-closed; code != websocket.StatusGoingAway {
				t.Errorf("client saw close code %d, want 1001", code)
			}
			close(gw.release)
			if err := <-stopped; err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if tt.own {
				if _, err := http.Get(probes + "/readyz"); err == nil {
					t.Error("the metrics server still answers after Stop")
				}
			}
		})
	}
}

func TestOwnServerLeavesTheAppServerAlone(t *testing.T) {
	var own *fxmetrics.Server
	app, base := startApp(t, fxmetrics.Metrics(fxmetrics.Addr("127.0.0.1:0")), fx.Populate(&own))
	defer app.RequireStop()
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if status, _ := get(t, base+path); status != http.StatusNotFound {
			t.Errorf("app server GET %s: %d, want 404", path, status)
		}
		if status, _ := get(t, "http://"+own.Addr().String()+path); status != http.StatusOK {
			t.Errorf("metrics server GET %s: %d, want 200", path, status)
		}
	}
}

func TestDrainDelayHoldsTheStopAfterReadyzTurns503(t *testing.T) {
	const delay = 300 * time.Millisecond
	core, logs := observer.New(zapcore.InfoLevel)
	gw := newHoldingGateway()
	close(gw.release)
	app, base := startApp(t,
		fx.Supply(zap.New(core)),
		fxforge.Gateway(func() *holdingGateway { return gw }),
		fxforge.WebSocketModule("/ws"),
		fxmetrics.Metrics(fxmetrics.DrainDelay(delay)),
	)
	closed := connectCounted(t, base, base)
	app.RequireStop()
	<-closed
	within(t, "the gateway to see its connection end", gw.closing)

	drained := logs.FilterMessage("draining").All()
	if len(drained) != 1 {
		t.Fatalf("logged %d draining lines, want 1", len(drained))
	}
	if got := drained[0].ContextMap()["probe"]; got != "/readyz" {
		t.Errorf("draining line names probe %v, want /readyz", got)
	}
	shutdown := logs.FilterMessage("HTTP server shutting down").All()
	if len(shutdown) != 1 {
		t.Fatalf("logged %d shutdown lines, want 1", len(shutdown))
	}
	if gap := shutdown[0].Time.Sub(drained[0].Time); gap < delay {
		t.Errorf("gateways began to close %s after /readyz turned 503, want at least %s", gap, delay)
	}
}
