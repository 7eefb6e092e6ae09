package natstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// service is the registry the tests serve: the patterns of
// examples/microservices plus a few that report what a handler sees.
type service struct {
	reg   *msregistry.Registry
	pings atomic.Int64
	// pinged receives once per handled app.ping.
	pinged chan struct{}
	// release unblocks the "slow" handler; started tells it is running.
	release chan struct{}
	started chan struct{}
}

// seen is what the "context" pattern reports about its handler context.
type seen struct {
	Transport string            `json:"transport"`
	Pattern   string            `json:"pattern"`
	Metadata  map[string]string `json:"metadata"`
	RequestID string            `json:"request_id"`
	Subject   string            `json:"subject"`
}

func newService(t testing.TB) *service {
	t.Helper()
	s := &service{reg: msregistry.New(), pinged: make(chan struct{}, 1000), release: make(chan struct{}), started: make(chan struct{}, 100)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(msregistry.Message(s.reg, "app.info", func(ctx context.Context, _ struct{}) (map[string]string, error) {
		call, _ := msregistry.CallFrom(ctx)
		return map[string]string{"app_name": "natstransport-test", "transport": call.Transport}, nil
	}))
	must(msregistry.Message(s.reg, "math.sum", func(_ context.Context, in json.RawMessage) (float64, error) {
		var xs []float64
		if err := json.Unmarshal(in, &xs); err != nil || xs == nil {
			return 0, msregistry.NewError("bad_request", "math.sum takes an array of numbers, e.g. [1,2,3]")
		}
		var sum float64
		for _, x := range xs {
			sum += x
		}
		return sum, nil
	}))
	must(msregistry.Message(s.reg, `{"cmd":"object.pattern"}`, func(context.Context, any) (string, error) { return "ok", nil }))
	must(msregistry.Message(s.reg, "fail", func(context.Context, any) (any, error) {
		return nil, msregistry.NewError("boom", "failed on purpose")
	}))
	must(msregistry.Message(s.reg, "crash", func(context.Context, any) (any, error) {
		return nil, errors.New("database password is hunter2")
	}))
	must(msregistry.Event(s.reg, "app.ping", func(context.Context, any) error {
		s.pings.Add(1)
		s.pinged <- struct{}{}
		return nil
	}))
	must(msregistry.Message(s.reg, "app.pings", func(context.Context, any) (int64, error) { return s.pings.Load(), nil }))
	must(msregistry.Message(s.reg, "context", func(ctx context.Context, _ any) (seen, error) {
		call, _ := msregistry.CallFrom(ctx)
		out := seen{Transport: call.Transport, Pattern: call.Pattern, Metadata: call.Metadata, RequestID: identity.RequestID(ctx)}
		if id, ok := identity.FromContext(ctx); ok {
			out.Subject = id.Subject
		}
		return out, nil
	}))
	must(msregistry.Message(s.reg, "slow", func(ctx context.Context, _ any) (string, error) {
		s.started <- struct{}{}
		select {
		case <-s.release:
			return "done", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	return s
}

// serve starts a Server for reg on nc and stops it when the test ends.
func serve(t testing.TB, nc *nats.Conn, reg *msregistry.Registry, opts ...natstransport.ServerOption) *natstransport.Server {
	t.Helper()
	srv, err := natstransport.NewServer(nc, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// startService starts a nats-server serving newService's registry and
// returns the service, and a Client with its own connection.
func startService(t testing.TB, opts ...natstransport.ServerOption) (*service, *natstransport.Client, *nats.Conn) {
	t.Helper()
	ns := startNATS(t, -1)
	svc := newService(t)
	serve(t, connect(t, ns), svc.reg, opts...)
	nc := connect(t, ns)
	return svc, natstransport.NewClient(nc), nc
}

// testCtx returns a context that ends with the test, at the latest after
// a generous deadline.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually retries check until it returns nil or the deadline passes.
func eventually(t testing.TB, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %s: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
