package natstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

func TestSendGetsTheHandlersResponse(t *testing.T) {
	_, client, _ := startService(t)
	ctx := testCtx(t)

	for _, tc := range []struct {
		pattern string
		payload any
		want    string
	}{
		{"app.info", nil, `{"app_name":"natstransport-test","transport":"nats"}`},
		{"math.sum", []float64{1, 2, 3.5}, `6.5`},
		{`{"cmd":"object.pattern"}`, nil, `"ok"`},
		{`{ "cmd" : "object.pattern" }`, nil, `"ok"`}, // same object, other spelling
		{"app.pings", nil, `0`},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			got, err := client.Send(ctx, tc.pattern, tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("Send(%s) = %s, want %s", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestEmittedEventsRunTheEventHandlerOnce(t *testing.T) {
	svc, client, _ := startService(t)
	ctx := testCtx(t)

	for range 3 {
		if err := client.Emit(ctx, "app.ping", nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case <-svc.pinged:
		case <-ctx.Done():
			t.Fatal("app.ping not handled")
		}
	}
	n, err := msregistry.Send[int](ctx, client, "app.pings", nil)
	if err != nil || n != 3 {
		t.Fatalf("app.pings = %d, %v; want 3", n, err)
	}
}

func TestErrorsReachTheClientAsRemoteErrors(t *testing.T) {
	_, client, _ := startService(t)
	ctx := testCtx(t)

	for _, tc := range []struct {
		name, pattern string
		payload       any
		code, message string
	}{
		{"handler error", "fail", nil, "boom", "failed on purpose"},
		{"handler error with a code", "math.sum", "not numbers", "bad_request", "math.sum takes an array of numbers, e.g. [1,2,3]"},
		{"internal error stays on the server", "crash", nil, msregistry.CodeInternal, "internal error"},
		{"payload that does not decode", "app.info", 42, msregistry.CodeInvalidPayload, "payload: cannot decode number into object"},
		{"event pattern sent as a message", "app.ping", nil, msregistry.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Send(ctx, tc.pattern, tc.payload)
			var remote *natstransport.RemoteError
			if !errors.As(err, &remote) {
				t.Fatalf("error %v (%T), want a *natstransport.RemoteError", err, err)
			}
			var rpcErr *msregistry.Error
			if !errors.As(err, &rpcErr) {
				t.Fatalf("errors.As(*msregistry.Error) fails for %v", err)
			}
			if rpcErr.Code != tc.code || (tc.message != "" && rpcErr.Message != tc.message) {
				t.Fatalf("error %q: %q, want %q: %q", rpcErr.Code, rpcErr.Message, tc.code, tc.message)
			}
			if remote.Pattern != tc.pattern {
				t.Fatalf("RemoteError.Pattern %q, want %q", remote.Pattern, tc.pattern)
			}
		})
	}
}

func TestSendTimesOutWithATypedError(t *testing.T) {
	ns := startNATS(t, -1)
	svc := newService(t)
	serve(t, connect(t, ns), svc.reg)
	defer close(svc.release)

	t.Run("context deadline", func(t *testing.T) {
		client := natstransport.NewClient(connect(t, ns))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := client.Send(ctx, "slow", nil)
		if !errors.Is(err, natstransport.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want ErrTimeout and context.DeadlineExceeded", err)
		}
	})
	t.Run("client default", func(t *testing.T) {
		client := natstransport.NewClient(connect(t, ns), natstransport.Timeout(100*time.Millisecond))
		_, err := client.Send(context.Background(), "slow", nil)
		if !errors.Is(err, natstransport.ErrTimeout) {
			t.Fatalf("error %v, want ErrTimeout", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		client := natstransport.NewClient(connect(t, ns))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-svc.started; cancel() }()
		_, err := client.Send(ctx, "slow", nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, natstransport.ErrTimeout) {
			t.Fatalf("error %v, want context.Canceled only", err)
		}
	})
}

func TestSendWithoutAServerFailsWithNoResponders(t *testing.T) {
	ns := startNATS(t, -1)
	client := natstransport.NewClient(connect(t, ns))
	_, err := client.Send(testCtx(t), "nobody.home", nil)
	if !errors.Is(err, natstransport.ErrNoResponders) || !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("error %v, want ErrNoResponders", err)
	}
	if !strings.Contains(err.Error(), `"nobody.home"`) {
		t.Fatalf("error %q does not name the pattern", err)
	}
}

func TestTwoServersInAQueueGroupShareTheLoad(t *testing.T) {
	ns := startNATS(t, -1)
	var handled [2]atomic.Int64
	var events atomic.Int64
	for i := range 2 {
		reg := msregistry.New()
		_ = msregistry.Message(reg, "who", func(context.Context, any) (int, error) {
			handled[i].Add(1)
			return i, nil
		})
		_ = msregistry.Event(reg, "tick", func(context.Context, any) error {
			events.Add(1)
			return nil
		})
		serve(t, connect(t, ns), reg, natstransport.QueueGroup("workers"))
	}
	client := natstransport.NewClient(connect(t, ns))
	ctx := testCtx(t)

	const n = 100
	for range n {
		if _, err := client.Send(ctx, "who", nil); err != nil {
			t.Fatal(err)
		}
		if err := client.Emit(ctx, "tick", nil); err != nil {
			t.Fatal(err)
		}
	}
	a, b := handled[0].Load(), handled[1].Load()
	if a+b != n || a == 0 || b == 0 {
		t.Fatalf("instances handled %d and %d of %d messages; want each message once, spread over both", a, b, n)
	}
	eventually(t, 10*time.Second, func() error {
		if got := events.Load(); got != n {
			return fmt.Errorf("%d events handled, want %d (each by one instance)", got, n)
		}
		return nil
	})
}

func TestCallsSucceedAgainAfterTheNATSServerRestarts(t *testing.T) {
	ns := startNATS(t, -1)
	svc := newService(t)
	reconnect := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}
	serverConn := connect(t, ns, reconnect...)
	serve(t, serverConn, svc.reg)
	callerConn := connect(t, ns, reconnect...)
	client := natstransport.NewClient(callerConn, natstransport.Timeout(time.Second))

	// A caller sends in a loop while the NATS server goes away and comes
	// back on the same port.
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := client.Send(context.Background(), "math.sum", []int{1, 2}); err != nil {
				failed.Add(1)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			ok.Add(1)
		}
	})
	eventually(t, 10*time.Second, func() error {
		if ok.Load() < 10 {
			return errors.New("calls not succeeding before the restart")
		}
		return nil
	})

	restartNATS(t, ns)
	before := ok.Load()
	eventually(t, 20*time.Second, func() error {
		if ok.Load() < before+10 {
			return fmt.Errorf("%d calls succeeded since the restart (%d failed)", ok.Load()-before, failed.Load())
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if serverConn.Stats().Reconnects == 0 || callerConn.Stats().Reconnects == 0 {
		t.Fatal("the connections never reconnected: the NATS server did not restart under them")
	}
}

func TestMalformedMessagesGetAnErrorReplyAndServingGoesOn(t *testing.T) {
	_, _, nc := startService(t)

	for _, body := range []string{`not json`, `{"pattern":"app.info","data":`, `{"pattern":1,"data":[`} {
		msg, err := nc.Request("app.info", []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Err        msregistry.Error `json:"err"`
			IsDisposed bool             `json:"isDisposed"`
		}
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			t.Fatalf("reply %s: %v", msg.Data, err)
		}
		if r.Err.Code != msregistry.CodeInvalidFrame || !r.IsDisposed || !strings.Contains(r.Err.Message, "NestJS packet") {
			t.Fatalf("reply to %q: %s", body, msg.Data)
		}
		if msg.Header.Get("Nats-Service-Error-Code") != msregistry.CodeInvalidFrame {
			t.Fatalf("reply headers %v lack the micro error code", msg.Header)
		}
	}
	// A malformed event has nobody to tell; it is logged and dropped.
	if err := nc.Publish("app.ping", []byte("{{{")); err != nil {
		t.Fatal(err)
	}
	got, err := natstransport.NewClient(nc).Send(testCtx(t), "app.info", nil)
	if err != nil || !strings.Contains(string(got), "natstransport-test") {
		t.Fatalf("after malformed messages: %s, %v", got, err)
	}
}

func TestWireFormatIsNestJSs(t *testing.T) {
	svc, _, nc := startService(t)

	for _, tc := range []struct{ subject, body, want string }{
		{"math.sum", `{"pattern":"math.sum","data":[1,2],"id":"abc"}`, `{"id":"abc","response":3,"isDisposed":true}`},
		{"fail", `{"pattern":"fail","data":null,"id":"x-1"}`, `{"id":"x-1","err":{"code":"boom","message":"failed on purpose"},"isDisposed":true}`},
		{`{"cmd":"object.pattern"}`, `{"pattern":{"cmd":"object.pattern"},"data":{},"id":"7"}`, `{"id":"7","response":"ok","isDisposed":true}`},
		// Not a NestJS packet: the whole body is the data, as in NestJS.
		{"math.sum", `[4,5]`, `{"response":9,"isDisposed":true}`},
		{"app.info", ``, `{"response":{"app_name":"natstransport-test","transport":"nats"},"isDisposed":true}`},
	} {
		msg, err := nc.Request(tc.subject, []byte(tc.body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if string(msg.Data) != tc.want {
			t.Errorf("%s %s\n got %s\nwant %s", tc.subject, tc.body, msg.Data, tc.want)
		}
	}

	// An event is a packet without an id, published without a reply
	// subject.
	if err := nc.Publish("app.ping", []byte(`{"pattern":"app.ping","data":null}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-svc.pinged:
	case <-testCtx(t).Done():
		t.Fatal("event not handled")
	}
}

func TestMetadataAndRequestIDTravelAsHeaders(t *testing.T) {
	_, client, _ := startService(t)

	ctx := msregistry.WithMetadata(testCtx(t), msregistry.Metadata{"tenant": "acme", "Trace-Parent": "00-abc"})
	ctx = identity.WithRequestID(ctx, "req-42")
	got, err := msregistry.Send[seen](ctx, client, "context", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := seen{Transport: "nats", Pattern: "context", Metadata: map[string]string{"tenant": "acme", "Trace-Parent": "00-abc"}, RequestID: "req-42"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("handler saw %+v, want %+v", got, want)
	}

	// Without a request id the handler gets a fresh one.
	got, err = msregistry.Send[seen](testCtx(t), client, "context", nil)
	if err != nil || !identity.ValidRequestID(got.RequestID) || got.Metadata != nil {
		t.Fatalf("handler saw %+v, %v; want a generated request id and no metadata", got, err)
	}

	// Metadata that cannot be a header is refused before it is sent.
	bad := msregistry.WithMetadata(testCtx(t), msregistry.Metadata{"bad key": "x"})
	if _, err := client.Send(bad, "context", nil); err == nil || !strings.Contains(err.Error(), "header name") {
		t.Fatalf("error %v, want one about the header name", err)
	}
}

func TestIdentityCrossesOnlyWhenBothSidesOptIn(t *testing.T) {
	ns := startNATS(t, -1)
	user := &identity.Identity{Subject: "user-7", Roles: []string{"admin"}}
	for _, tc := range []struct {
		name          string
		trust, forwad bool
		want          string
	}{
		{"server trusts, client forwards", true, true, "user-7"},
		{"server does not trust", false, true, ""},
		{"client does not forward", true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			var sopts []natstransport.ServerOption
			if tc.trust {
				sopts = append(sopts, natstransport.TrustIdentity())
			}
			var copts []natstransport.ClientOption
			if tc.forwad {
				copts = append(copts, natstransport.ForwardIdentity())
			}
			// Each case has its own queue group, so only its server answers.
			serve(t, connect(t, ns), svc.reg, append(sopts, natstransport.QueueGroup(strings.ReplaceAll(tc.name, " ", "-")))...)
			client := natstransport.NewClient(connect(t, ns), copts...)
			got, err := msregistry.Send[seen](identity.WithIdentity(testCtx(t), user), client, "context", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != tc.want {
				t.Fatalf("handler saw identity %q, want %q", got.Subject, tc.want)
			}
			if _, ok := got.Metadata[natstransport.HeaderIdentity]; ok {
				t.Fatal("the identity header leaked into the metadata")
			}
		})
	}
}

func TestStopAnswersCallsAlreadyReceived(t *testing.T) {
	ns := startNATS(t, -1)
	svc := newService(t)
	srv, err := natstransport.NewServer(connect(t, ns), svc.reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	client := natstransport.NewClient(connect(t, ns))

	reply := make(chan error, 1)
	go func() {
		_, err := client.Send(testCtx(t), "slow", nil)
		reply <- err
	}()
	<-svc.started
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Stop(testCtx(t)) }()
	close(svc.release)
	if err := <-reply; err != nil {
		t.Fatalf("call in flight during Stop: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(testCtx(t), "app.info", nil); !errors.Is(err, natstransport.ErrNoResponders) {
		t.Fatalf("after Stop: %v, want ErrNoResponders", err)
	}
}

func TestNewServerRefusesBadOptions(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns)
	reg := msregistry.New()
	for _, tc := range []struct {
		name string
		opts []natstransport.ServerOption
		want string
	}{
		{"name with a dot", []natstransport.ServerOption{natstransport.Name("my.svc")}, "service name"},
		{"empty version", []natstransport.ServerOption{natstransport.Version("")}, "version"},
		{"queue group with a space", []natstransport.ServerOption{natstransport.QueueGroup("a b")}, "queue group"},
		{"no calls allowed", []natstransport.ServerOption{natstransport.MaxInFlight(0)}, "MaxInFlight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := natstransport.NewServer(nc, reg, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %s", err, tc.want)
			}
		})
	}
}

func TestStartRefusesPatternsThatCannotBeSubjects(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns)
	for _, tc := range []struct {
		name     string
		patterns []string
		want     string
	}{
		{"whitespace", []string{"two words"}, "whitespace"},
		{"two spellings of one object", []string{`{"a":1,"b":2}`, `{"b":2,"a":1}`}, "both served on subject"},
		{"object pattern that is not JSON", []string{`{cmd:sum}`}, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := msregistry.New()
			for _, p := range tc.patterns {
				_ = msregistry.Message(reg, p, func(context.Context, any) (any, error) { return nil, nil })
			}
			srv, err := natstransport.NewServer(nc, reg)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestASlowCallDoesNotHoldUpTheNext(t *testing.T) {
	svc, client, _ := startService(t)
	ctx := testCtx(t)

	slowDone := make(chan error, 1)
	go func() {
		_, err := client.Send(ctx, "slow", nil)
		slowDone <- err
	}()
	<-svc.started
	// A second call of the same pattern starts while the first still runs.
	go func() { _, _ = client.Send(ctx, "slow", nil) }()
	select {
	case <-svc.started:
	case <-ctx.Done():
		t.Fatal("the second call waited for the first")
	}
	close(svc.release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
}

func TestMaxInFlightOneServesASubjectInOrder(t *testing.T) {
	ns := startNATS(t, -1)
	reg := msregistry.New()
	var mu sync.Mutex
	var got []int
	_ = msregistry.Event(reg, "seq", func(_ context.Context, n int) error {
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
		time.Sleep(200 * time.Microsecond) // slower than the handoff delay
		return nil
	})
	serve(t, connect(t, ns), reg, natstransport.MaxInFlight(1))
	client := natstransport.NewClient(connect(t, ns))
	const n = 50
	for i := range n {
		if err := client.Emit(testCtx(t), "seq", i); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) < n {
			return fmt.Errorf("%d of %d events handled", len(got), n)
		}
		return nil
	})
	for i, v := range got {
		if v != i {
			t.Fatalf("events handled in the order %v", got)
		}
	}
}
