package fxmetrics_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// flooder writes 64 KiB messages to a client that never reads, until the
// server cuts it off as a slow consumer.
var flooder = wsgateway.GatewayFunc(func(_ *wsgateway.Context, conn *wsgateway.Conn) error {
	payload := strings.Repeat("x", 64<<10)
	for {
		if err := conn.WriteText(payload); err != nil {
			return nil
		}
	}
})

func TestMetricsCountWhatTheAppDid(t *testing.T) {
	var reg *msregistry.Registry
	ordersPlaced := prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_orders_placed_total", Help: "Orders placed."})
	app, base := startApp(t,
		fxforge.Microservices(),
		fxforge.Patterns(patterns),
		fxforge.Gateway(newServeGateway),
		fxforge.WebSocketModule("/ws"),
		fxforge.WebSocketModule("/limited", fxforge.WithConfig(func() wsgateway.Config {
			return wsgateway.Config{MessageRate: 0.001, MessageBurst: 1, RateViolations: 100}
		})),
		fxforge.WebSocketModule("/slow", fxforge.WithGateway(func() wsgateway.Gateway { return flooder }),
			fxforge.WithConfig(func() wsgateway.Config {
				return wsgateway.Config{OutboundQueue: 4, WriteTimeout: 200 * time.Millisecond, PingInterval: -1}
			})),
		fxmetrics.Module,
		// The app's own metric, on the app's own registry.
		fx.Invoke(func(r *prometheus.Registry) error { return r.Register(ordersPlaced) }),
		fx.Populate(&reg),
	)
	defer app.RequireStop()

	// /ws: 3 app.info, 1 failing message, 2 events, 1 failing event, an
	// unknown message and an unknown event, then a normal close.
	a := dial(t, base, "/ws")
	for range 3 {
		send(t, a, `{"kind":"message","pattern":"app.info","payload":null,"metadata":{}}`)
		if got := wstest.Read(t, a); !strings.Contains(got, `"transport":"websocket"`) {
			t.Fatalf("app.info reply %s", got)
		}
	}
	send(t, a, `{"kind":"message","pattern":"fails","metadata":{}}`)
	send(t, a, `{"kind":"message","pattern":"nope\u009b\u001b[2J","metadata":{}}`)
	send(t, a, `{"kind":"event","pattern":"no.such.event","metadata":{}}`)
	for range 3 {
		if got := wstest.Read(t, a); !strings.Contains(got, `"kind":"error"`) {
			t.Fatalf("want an error frame, got %s", got)
		}
	}
	send(t, a, `{"kind":"event","pattern":"app.ping","metadata":{}}`)
	send(t, a, `{"kind":"event","pattern":"app.ping","metadata":{}}`)
	send(t, a, `{"kind":"event","pattern":"ping.fails","metadata":{}}`)
	a.Close(websocket.StatusNormalClosure, "")

	// One connection stays open.
	b := dial(t, base, "/ws")

	// /limited: the first message is served, the next two are over the rate.
	c := dial(t, base, "/limited")
	for range 3 {
		send(t, c, `{"kind":"message","pattern":"app.info","metadata":{}}`)
	}
	// Replies come in the order they are ready.
	responses, limited := 0, 0
	for range 3 {
		got := wstest.Read(t, c)
		switch {
		case strings.Contains(got, `"kind":"response"`):
			responses++
		case strings.Contains(got, `"rate_limited"`):
			limited++
		}
	}
	if responses != 1 || limited != 2 {
		t.Fatalf("/limited: %d responses and %d rate_limited errors, want 1 and 2", responses, limited)
	}
	// A close code of the client's own choosing is not a label value.
	c.Close(websocket.StatusCode(4321), "bye")

	// /slow: the client never reads.
	_ = dial(t, base, "/slow")

	// In-process calls count under their own transport.
	if _, err := msregistry.NewLocalClient(reg).Send(context.Background(), "app.info", nil); err != nil {
		t.Fatal(err)
	}
	ordersPlaced.Add(2)

	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"fxforge_ws_connections", []string{"path=/ws"}, 1},
		{"fxforge_ws_connections", []string{"path=/limited"}, 0},
		{"fxforge_ws_connections", []string{"path=/slow"}, 0},
		{"fxforge_ws_messages_received_total", []string{"path=/ws"}, 9},
		{"fxforge_ws_messages_received_total", []string{"path=/limited"}, 3},
		{"fxforge_ws_messages_sent_total", []string{"path=/ws"}, 6},
		{"fxforge_ws_messages_sent_total", []string{"path=/limited"}, 3},
		{"fxforge_ws_closed_total", []string{"path=/ws", "code=1000"}, 1},
		{"fxforge_ws_closed_total", []string{"path=/limited", "code=other"}, 1},
		{"fxforge_ws_closed_total", []string{"path=/slow", "code=1013"}, 1},
		{"fxforge_ws_dropped_total", []string{"path=/limited", "reason=rate_limited"}, 2},
		{"fxforge_ws_dropped_total", []string{"path=/limited", "reason=slow_consumer"}, 0},
		{"fxforge_ws_dropped_total", []string{"path=/slow", "reason=slow_consumer"}, 1},
		{"fxforge_ws_dropped_total", []string{"path=/ws", "reason=rate_limited"}, 0},
		{"fxforge_ms_handled_total", []string{"pattern=app.info", "kind=message", "transport=websocket", "outcome=ok"}, 4},
		{"fxforge_ms_handled_total", []string{"pattern=app.info", "kind=message", "transport=websocket", "outcome=error"}, 0},
		{"fxforge_ms_handled_total", []string{"pattern=app.info", "kind=message", "transport=local", "outcome=ok"}, 1},
		{"fxforge_ms_handled_total", []string{"pattern=fails", "kind=message", "transport=websocket", "outcome=error"}, 1},
		{"fxforge_ms_handled_total", []string{"pattern=app.ping", "kind=event", "transport=websocket", "outcome=ok"}, 2},
		{"fxforge_ms_handled_total", []string{"pattern=ping.fails", "kind=event", "transport=websocket", "outcome=error"}, 1},
		{"fxforge_ms_handle_duration_seconds", []string{"pattern=app.info", "transport=websocket"}, 4},
		{"fxforge_ms_handle_duration_seconds", []string{"pattern=app.info", "transport=local"}, 1},
		{"fxforge_ms_handle_duration_seconds", []string{"pattern=app.ping", "transport=websocket"}, 2},
		{"fxforge_ms_handle_duration_seconds", []string{"pattern=fails", "transport=websocket"}, 1},
		{"fxforge_ms_unknown_pattern_total", []string{"kind=message", "transport=websocket"}, 1},
		{"fxforge_ms_unknown_pattern_total", []string{"kind=event", "transport=websocket"}, 1},
		{"shop_orders_placed_total", nil, 2},
	}
	// mismatches lists the series of a scrape that do not have their value.
	mismatches := func(families map[string]*dto.MetricFamily) []string {
		var out []string
		for _, w := range want {
			if v, ok := value(families, w.name, w.labels...); !ok || v != w.value {
				out = append(out, fmt.Sprintf("%s%v = %v (present %v), want %v", w.name, w.labels, v, ok, w.value))
			}
		}
		return out
	}
	// Events and closes finish after their frames were answered, so wait
	// for the figures to settle; report the last scrape's mismatches.
	var families map[string]*dto.MetricFamily
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for {
		families, text = scrape(t, base+"/metrics")
		if len(mismatches(families)) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, m := range mismatches(families) {
		t.Error(m)
	}
	if v, ok := value(families, "fxforge_ws_messages_sent_total", "path=/slow"); !ok || v < 1 {
		t.Errorf("fxforge_ws_messages_sent_total{path=/slow} = %v, want at least 1", v)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "promhttp_metric_handler_requests_total"} {
		if families[name] == nil {
			t.Errorf("%s is not served", name)
		}
	}
	if strings.Contains(text, "nope") || strings.Contains(text, "no.such.event") {
		t.Errorf("an unregistered pattern became a label value:\n%s", text)
	}
	if strings.Contains(text, `code="4321"`) {
		t.Errorf("a client's close code became a label value:\n%s", text)
	}
	b.Close(websocket.StatusNormalClosure, "")
}

func TestHealthzAnswers200(t *testing.T) {
	app, base := startApp(t, fxmetrics.Module)
	defer app.RequireStop()
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := get(t, base+path); status != http.StatusOK {
			t.Errorf("GET %s: %d %q, want 200", path, status, body)
		}
	}
	resp, err := http.Head(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /healthz: %d, want 200", resp.StatusCode)
	}
}

func TestPathsAreConfigurable(t *testing.T) {
	app, base := startApp(t, fxmetrics.Metrics(
		fxmetrics.MetricsPath("/internal/metrics"),
		fxmetrics.HealthPath("/live"),
		fxmetrics.ReadyPath("/ready"),
	))
	defer app.RequireStop()
	for path, want := range map[string]int{
		"/internal/metrics": 200, "/live": 200, "/ready": 200,
		"/metrics": 404, "/healthz": 404, "/readyz": 404,
	} {
		if status, _ := get(t, base+path); status != want {
			t.Errorf("GET %s: %d, want %d", path, status, want)
		}
	}
}

func TestBadOptionsFailClearly(t *testing.T) {
	tests := []struct {
		name string
		opts []fx.Option
		want string
	}{
		{"path without a slash", []fx.Option{fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), fxmetrics.Metrics(fxmetrics.MetricsPath("metrics"))}, `fxmetrics.MetricsPath("metrics")`},
		{"two endpoints on one path", []fx.Option{fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), fxmetrics.Metrics(fxmetrics.ReadyPath("/healthz"))}, "already used"},
		{"no HTTP server", []fx.Option{fxmetrics.Module}, "fxmetrics.Addr"},
		{"route taken by the app", []fx.Option{
			fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
			fxforge.Route("GET /metrics", func() http.HandlerFunc { return func(http.ResponseWriter, *http.Request) {} }),
			fxmetrics.Module,
		}, "/metrics"},
		{"fxmetrics twice", []fx.Option{fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), fxmetrics.Module, fxmetrics.Metrics(fxmetrics.Addr("127.0.0.1:0"))}, "prometheus.Registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fx.New(append([]fx.Option{fx.NopLogger}, tt.opts...)...)
			err := app.Err()
			if err == nil {
				t.Fatal("app built without error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}
