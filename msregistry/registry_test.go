package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

type countReq struct {
	Count int    `json:"count"`
	Name  string `json:"name"`
	Inner struct {
		Flag bool `json:"flag"`
	} `json:"inner"`
}

type countResp struct {
	Double int    `json:"double"`
	Name   string `json:"name"`
}

type greeter struct{ greeting string }

type callInfo struct {
	Transport string            `json:"transport"`
	Pattern   string            `json:"pattern"`
	Kind      string            `json:"kind"`
	Metadata  map[string]string `json:"metadata"`
	RequestID string            `json:"requestId"`
	Subject   string            `json:"subject"`
	Greeting  string            `json:"greeting"`
}

func infoFrom(ctx context.Context) callInfo {
	c, _ := msregistry.CallFrom(ctx)
	info := callInfo{Transport: c.Transport, Pattern: c.Pattern, Kind: c.Kind.String(), Metadata: c.Metadata, RequestID: identity.RequestID(ctx)}
	if id, ok := identity.FromContext(ctx); ok {
		info.Subject = id.Subject
	}
	if g, err := msregistry.Resolve[*greeter](ctx); err == nil {
		info.Greeting = g.greeting
	}
	return info
}

// newTestRegistry returns a registry with the handlers the tests use and
// the logs it wrote.
func newTestRegistry(t testing.TB) (*msregistry.Registry, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	res := msregistry.NewResolver()
	msregistry.Register(res, &greeter{greeting: "hello"})
	reg := msregistry.New(msregistry.WithLogger(zap.New(core)), msregistry.WithResolver(res))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(msregistry.Message(reg, "count.double", func(_ context.Context, in countReq) (countResp, error) {
		return countResp{Double: in.Count * 2, Name: in.Name}, nil
	}))
	must(msregistry.Message(reg, "fail.rpc", func(context.Context, struct{}) (string, error) {
		return "", fmt.Errorf("checking quota: %w", msregistry.NewError("quota_exceeded", "too many widgets"))
	}))
	must(msregistry.Message(reg, "fail.plain", func(context.Context, struct{}) (string, error) {
		return "", errors.New("database is down at 10.0.0.7")
	}))
	must(msregistry.Message(reg, "panic", func(context.Context, struct{}) (string, error) {
		panic("boom at secret place")
	}))
	must(msregistry.Message(reg, "info", func(ctx context.Context, _ struct{}) (callInfo, error) {
		return infoFrom(ctx), nil
	}))
	must(msregistry.Message(reg, "echo.any", func(_ context.Context, in any) (any, error) {
		return in, nil
	}))
	must(msregistry.Message(reg, "app.info", func(context.Context, struct{}) (map[string]string, error) {
		return map[string]string{"name": "fxforge"}, nil
	}))
	must(msregistry.Event(reg, "noted", func(context.Context, countReq) error { return nil }))
	return reg, logs
}

func TestDuplicateMessagePatternIsRejected(t *testing.T) {
	reg := msregistry.New()
	h := func(context.Context, struct{}) (int, error) { return 1, nil }
	if err := msregistry.Message(reg, "users.count", h); err != nil {
		t.Fatal(err)
	}
	err := msregistry.Message(reg, "users.count", h)
	if !errors.Is(err, msregistry.ErrDuplicatePattern) {
		t.Fatalf("second registration: err = %v, want ErrDuplicatePattern", err)
	}
	if !strings.Contains(err.Error(), `"users.count"`) {
		t.Errorf("error %q does not name the pattern", err)
	}
}

func TestEmptyPatternIsRejected(t *testing.T) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "", func(context.Context, struct{}) (int, error) { return 1, nil }); !errors.Is(err, msregistry.ErrEmptyPattern) {
		t.Errorf("Message: err = %v, want ErrEmptyPattern", err)
	}
	if err := msregistry.Event(reg, "", func(context.Context, struct{}) error { return nil }); !errors.Is(err, msregistry.ErrEmptyPattern) {
		t.Errorf("Event: err = %v, want ErrEmptyPattern", err)
	}
}

func TestMessageAndEventPatternsAreSeparate(t *testing.T) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "x", func(context.Context, struct{}) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if err := msregistry.Event(reg, "x", func(context.Context, struct{}) error { return nil }); err != nil {
		t.Fatalf("event with a message's pattern: %v", err)
	}
}

func TestCallDecodesPayloadAndEncodesResult(t *testing.T) {
	reg, _ := newTestRegistry(t)
	out, err := reg.Call(context.Background(), msregistry.Incoming{Transport: "test", Pattern: "count.double", Payload: json.RawMessage(`{"count":21,"name":"n"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"double":42,"name":"n"}`; got != want {
		t.Errorf("Call = %s, want %s", got, want)
	}
}

func TestNullOrAbsentPayloadDecodesAsZero(t *testing.T) {
	reg, _ := newTestRegistry(t)
	for _, payload := range []string{"", "null", " null "} {
		out, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: "count.double", Payload: json.RawMessage(payload)})
		if err != nil {
			t.Fatalf("payload %q: %v", payload, err)
		}
		if got, want := string(out), `{"double":0,"name":""}`; got != want {
			t.Errorf("payload %q: Call = %s, want %s", payload, got, want)
		}
	}
}

func TestEmptyStructAndAnyPayloadsWork(t *testing.T) {
	reg, _ := newTestRegistry(t)
	tests := []struct {
		pattern, payload, want string
	}{
		{"app.info", `{"ignored":true}`, `{"name":"fxforge"}`},
		{"app.info", `{}`, `{"name":"fxforge"}`},
		{"echo.any", `{"a":[1,"x",null]}`, `{"a":[1,"x",null]}`},
		{"echo.any", `"s"`, `"s"`},
		{"echo.any", `null`, `null`},
	}
	for _, tt := range tests {
		out, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: tt.pattern, Payload: json.RawMessage(tt.payload)})
		if err != nil {
			t.Fatalf("%s %s: %v", tt.pattern, tt.payload, err)
		}
		if string(out) != tt.want {
			t.Errorf("%s %s = %s, want %s", tt.pattern, tt.payload, out, tt.want)
		}
	}
}

func TestAppendCallAppendsTheResultOrLeavesDstAlone(t *testing.T) {
	reg, _ := newTestRegistry(t)
	ctx := context.Background()
	head := []byte(`{"response":`)
	out, err := reg.AppendCall(ctx, head, msregistry.Incoming{Transport: "test", Pattern: "count.double", Payload: json.RawMessage(`{"count":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"response":{"double":4,"name":""}`; got != want {
		t.Errorf("AppendCall = %s, want %s", got, want)
	}
	// Failures of every kind (unknown pattern, bad payload, handler error,
	// panic) hand dst back as it was, with nothing half-written after it.
	for _, pattern := range []string{"nope", "count.double", "fail.plain", "panic"} {
		dst := append(make([]byte, 0, 64), head...)
		out, err := reg.AppendCall(ctx, dst, msregistry.Incoming{Transport: "test", Pattern: pattern, Payload: json.RawMessage(`{"count":"x"}`)})
		if err == nil || string(out) != string(head) || len(out) != len(head) {
			t.Errorf("%s: AppendCall = %q, %v; want %q and an error", pattern, out, err, head)
		}
	}
}

func TestCallErrorsAreErrorsForTheClient(t *testing.T) {
	reg, logs := newTestRegistry(t)
	tests := []struct {
		name, pattern, payload string
		code, inMessage        string
	}{
		{"unknown pattern", "nope", "", msregistry.CodeNotFound, `"nope"`},
		{"event pattern sent as message", "noted", "", msregistry.CodeNotFound, `kind "event"`},
		{"wrong field type", "count.double", `{"count":"many"}`, msregistry.CodeInvalidPayload, `payload field "count": cannot decode string into int`},
		{"nested field", "count.double", `{"inner":{"flag":1}}`, msregistry.CodeInvalidPayload, `"inner.flag"`},
		{"wrong top-level type", "count.double", `[1]`, msregistry.CodeInvalidPayload, "cannot decode array into object"},
		{"syntax error", "count.double", `{"count":`, msregistry.CodeInvalidPayload, "not valid JSON"},
		{"handler *Error", "fail.rpc", "", "quota_exceeded", "too many widgets"},
		{"handler plain error", "fail.plain", "", msregistry.CodeInternal, "internal error"},
		{"handler panic", "panic", "", msregistry.CodeInternal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reg.Call(identity.WithRequestID(context.Background(), "req-1"), msregistry.Incoming{Transport: "test", Pattern: tt.pattern, Payload: json.RawMessage(tt.payload)})
			var e *msregistry.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.code || !strings.Contains(e.Message, tt.inMessage) {
				t.Errorf("err = %q %q, want code %q and message containing %q", e.Code, e.Message, tt.code, tt.inMessage)
			}
			if strings.Contains(e.Message, "10.0.0.7") || strings.Contains(e.Message, "secret") {
				t.Errorf("internal details leaked to the client: %q", e.Message)
			}
		})
	}

	plain := logs.FilterMessage("message handler failed").All()
	if len(plain) != 1 {
		t.Fatalf("logged %d handler failures, want 1", len(plain))
	}
	fields := plain[0].ContextMap()
	if fields["pattern"] != "fail.plain" || fields["request_id"] != "req-1" || !strings.Contains(fmt.Sprint(fields["error"]), "10.0.0.7") {
		t.Errorf("handler failure log fields = %v", fields)
	}
	panics := logs.FilterMessage("handler panicked").All()
	if len(panics) != 1 {
		t.Fatalf("logged %d panics, want 1", len(panics))
	}
	fields = panics[0].ContextMap()
	if fields["pattern"] != "panic" || fields["request_id"] != "req-1" || fields["panic"] != "boom at secret place" || !strings.Contains(fmt.Sprint(fields["stack"]), "registry_test.go") {
		t.Errorf("panic log fields = %v", fields)
	}
}

func TestHandlerContextCarriesCall(t *testing.T) {
	reg, _ := newTestRegistry(t)
	ctx := identity.WithRequestID(context.Background(), "req-9")
	ctx = identity.WithIdentity(ctx, &identity.Identity{Subject: "alice"})
	out, err := reg.Call(ctx, msregistry.Incoming{Transport: "websocket", Pattern: "info", Metadata: msregistry.Metadata{"tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	var got callInfo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := callInfo{Transport: "websocket", Pattern: "info", Kind: "message", Metadata: map[string]string{"tenant": "t1"}, RequestID: "req-9", Subject: "alice", Greeting: "hello"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("handler saw %+v, want %+v", got, want)
	}
}

func TestIncomingResolverWinsOverRegistryResolver(t *testing.T) {
	reg, _ := newTestRegistry(t)
	res := msregistry.NewResolver()
	msregistry.Register(res, &greeter{greeting: "from the gateway"})
	ctx := msregistry.ContextWithResolver(context.Background(), res)
	out, err := reg.Call(ctx, msregistry.Incoming{Pattern: "info"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"greeting":"from the gateway"`) {
		t.Errorf("Call = %s, want the incoming context's resolver", out)
	}
}

func TestResolveMissingTypeIsErrNotRegistered(t *testing.T) {
	reg := msregistry.New(msregistry.WithResolver(msregistry.NewResolver()))
	var resolveErr error
	if err := msregistry.Message(reg, "r", func(ctx context.Context, _ struct{}) (int, error) {
		_, resolveErr = msregistry.Resolve[*greeter](ctx)
		return 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: "r"}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(resolveErr, msregistry.ErrNotRegistered) {
		t.Fatalf("Resolve = %v, want ErrNotRegistered", resolveErr)
	}
	var nre *msregistry.NotRegisteredError
	if !errors.As(resolveErr, &nre) || nre.Type.String() != "*msregistry_test.greeter" {
		t.Fatalf("Resolve = %#v, want a *NotRegisteredError naming *msregistry_test.greeter", resolveErr)
	}
	if !strings.Contains(resolveErr.Error(), "greeter") {
		t.Errorf("error %q does not name the type", resolveErr)
	}
	if _, err := msregistry.Resolve[*greeter](context.Background()); !errors.Is(err, msregistry.ErrNotRegistered) {
		t.Errorf("Resolve without a resolver = %v, want ErrNotRegistered", err)
	}
}

func TestCallFromOutsideAHandler(t *testing.T) {
	if _, ok := msregistry.CallFrom(context.Background()); ok {
		t.Error("CallFrom(Background) ok = true")
	}
}

func TestEventFanOutRunsEveryHandler(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	reg := msregistry.New(msregistry.WithLogger(zap.New(core)))
	var ran []string
	add := func(name string, h func(context.Context, countReq) error) {
		if err := msregistry.Event(reg, "user.created", func(ctx context.Context, in countReq) error {
			ran = append(ran, name)
			return h(ctx, in)
		}); err != nil {
			t.Fatal(err)
		}
	}
	add("first", func(context.Context, countReq) error { return nil })
	add("panics", func(context.Context, countReq) error { panic("kaboom") })
	add("fails", func(context.Context, countReq) error { return errors.New("mail server down") })
	var seen callInfo
	add("last", func(ctx context.Context, in countReq) error {
		seen = infoFrom(ctx)
		if in.Count != 3 {
			return fmt.Errorf("count = %d", in.Count)
		}
		return nil
	})

	ctx := identity.WithRequestID(context.Background(), "req-ev")
	err := reg.Emit(ctx, msregistry.Incoming{Transport: "test", Pattern: "user.created", Payload: json.RawMessage(`{"count":3}`)})
	if err != nil {
		t.Fatalf("Emit = %v, want nil: handler errors are logged, not returned", err)
	}
	if got := strings.Join(ran, ","); got != "first,panics,fails,last" {
		t.Errorf("ran %s, want every handler in registration order", got)
	}
	if seen.Pattern != "user.created" || seen.Kind != "event" || seen.Transport != "test" || seen.RequestID != "req-ev" {
		t.Errorf("event handler context = %+v", seen)
	}
	for _, msg := range []string{"handler panicked", "event handler failed"} {
		entries := logs.FilterMessage(msg).All()
		if len(entries) != 1 {
			t.Fatalf("%q logged %d times, want 1", msg, len(entries))
		}
		if f := entries[0].ContextMap(); f["pattern"] != "user.created" || f["request_id"] != "req-ev" {
			t.Errorf("%q fields = %v", msg, f)
		}
	}
}

func TestEmitErrors(t *testing.T) {
	reg, _ := newTestRegistry(t)
	tests := []struct {
		name, pattern, payload, code string
	}{
		{"unknown pattern", "nope", "", msregistry.CodeNotFound},
		{"message pattern sent as event", "count.double", "", msregistry.CodeNotFound},
		{"payload does not decode", "noted", `{"count":"x"}`, msregistry.CodeInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reg.Emit(context.Background(), msregistry.Incoming{Pattern: tt.pattern, Payload: json.RawMessage(tt.payload)})
			var e *msregistry.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("Emit = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestConcurrentDispatchAndRegistration(t *testing.T) {
	reg, _ := newTestRegistry(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range 200 {
				out, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: "count.double", Payload: json.RawMessage(`{"count":2}`)})
				if err != nil || string(out) != `{"double":4,"name":""}` {
					t.Errorf("Call = %s, %v", out, err)
					return
				}
				buf, _ = reg.HandleFrame(context.Background(), "test", []byte(`{"kind":"message","pattern":"count.double","payload":{"count":1}}`), buf[:0])
				if string(buf) != `{"kind":"response","pattern":"count.double","payload":{"double":2,"name":""},"metadata":{}}` {
					t.Errorf("HandleFrame = %s", buf)
					return
				}
				if g == 0 {
					p := fmt.Sprintf("dyn.%d", i)
					if err := msregistry.Message(reg, p, func(context.Context, struct{}) (int, error) { return i, nil }); err != nil {
						t.Error(err)
					}
					if err := msregistry.Event(reg, "dyn", func(context.Context, struct{}) error { return nil }); err != nil {
						t.Error(err)
					}
				}
				_ = reg.Emit(context.Background(), msregistry.Incoming{Pattern: "dyn"})
			}
		}()
	}
	wg.Wait()
	msgs, events := reg.Patterns()
	if len(msgs) != 7+200 || len(events) != 2 {
		t.Errorf("Patterns = %d messages, %d events", len(msgs), len(events))
	}
}
