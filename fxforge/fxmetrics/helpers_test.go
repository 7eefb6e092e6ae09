package fxmetrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// appInfo is the reply to app.info.
type appInfo struct {
	Transport string `json:"transport"`
}

// patterns registers the handlers the tests call: app.info and fails
// (messages), app.ping and ping.fails (events).
func patterns(reg *msregistry.Registry) error {
	return errorsOf(
		msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (appInfo, error) {
			call, _ := msregistry.CallFrom(ctx)
			return appInfo{Transport: call.Transport}, nil
		}),
		msregistry.Message(reg, "fails", func(context.Context, struct{}) (string, error) {
			return "", msregistry.NewError("quota_exceeded", "no more today")
		}),
		msregistry.Event(reg, "app.ping", func(context.Context, struct{}) error { return nil }),
		msregistry.Event(reg, "ping.fails", func(context.Context, struct{}) error { return fmt.Errorf("mailer down") }),
	)
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// serveGateway serves frames through the app's registry.
type serveGateway struct{ reg *msregistry.Registry }

func newServeGateway(reg *msregistry.Registry) *serveGateway { return &serveGateway{reg: reg} }

func (g *serveGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	return wsgateway.Serve(ctx, conn, g.reg)
}

// startApp starts an fxtest app whose HTTP server listens on a free
// loopback port and returns it with the server's base URL. The test stops
// it.
func startApp(t *testing.T, opts ...fx.Option) (*fxtest.App, string) {
	t.Helper()
	var srv *fxforge.Server
	app := fxtest.New(t, append([]fx.Option{
		fx.NopLogger,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fx.Populate(&srv),
	}, opts...)...)
	app.RequireStart()
	return app, "http://" + srv.Addr().String()
}

// dial opens a WebSocket to base+path, closed when the test ends.
func dial(t testing.TB, base, path string) *websocket.Conn {
	t.Helper()
	c, _ := wstest.Dial(t, base+path, nil)
	return c
}

// send writes one text frame.
func send(t testing.TB, c *websocket.Conn, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("write %s: %v", frame, err)
	}
}

// get fetches url and returns the status and body.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// scrape fetches a Prometheus endpoint and parses it.
func scrape(t testing.TB, url string) (families map[string]*dto.MetricFamily, text string) {
	t.Helper()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", url, err, body)
	}
	return families, body
}

// value returns the value of the series of family name whose labels are
// exactly labels ("k=v" pairs): a counter's or gauge's value, or a
// histogram's sample count. ok is false when there is no such series.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		var have []string
		for _, l := range m.GetLabel() {
			have = append(have, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(have)
		want := slices.Sorted(slices.Values(labels))
		if !slices.Equal(have, want) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// eventually polls cond until it holds, failing the test after a generous
// deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
