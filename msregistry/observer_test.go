package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxforge/fxforge/msregistry"
)

// recorder is an Observer that writes down what it is told.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) Handled(c msregistry.Call, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	if d <= 0 {
		outcome += " (no duration)"
	}
	r.add(fmt.Sprintf("handled %s %s %s %s", c.Kind, c.Pattern, c.Transport, outcome))
}

func (r *recorder) Unknown(k msregistry.Kind, transport string) {
	r.add(fmt.Sprintf("unknown %s %s", k, transport))
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, s)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

func newObservedRegistry(t *testing.T) (*msregistry.Registry, *recorder) {
	t.Helper()
	rec := &recorder{}
	reg := msregistry.New(msregistry.WithObserver(rec))
	for _, err := range []error{
		msregistry.Message(reg, "ok", func(context.Context, struct{}) (string, error) { return "fine", nil }),
		msregistry.Message(reg, "rpc.error", func(context.Context, struct{}) (string, error) {
			return "", msregistry.NewError("quota_exceeded", "too many widgets")
		}),
		msregistry.Message(reg, "plain.error", func(context.Context, struct{}) (string, error) { return "", errors.New("db down") }),
		msregistry.Message(reg, "panics", func(context.Context, struct{}) (string, error) { panic("boom") }),
		msregistry.Message(reg, "wants.int", func(context.Context, int) (int, error) { return 1, nil }),
		msregistry.Event(reg, "noted", func(context.Context, struct{}) error { return nil }),
		msregistry.Event(reg, "noted", func(context.Context, struct{}) error { return nil }),
		msregistry.Event(reg, "half.fails", func(context.Context, struct{}) error { return nil }),
		msregistry.Event(reg, "half.fails", func(context.Context, struct{}) error { return errors.New("mailer down") }),
		msregistry.Event(reg, "event.panics", func(context.Context, struct{}) error { panic("boom") }),
		msregistry.Event(reg, "wants.int", func(context.Context, int) error { return nil }),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return reg, rec
}

func TestObserverSeesEveryDispatchedCallOnce(t *testing.T) {
	reg, rec := newObservedRegistry(t)
	ctx := context.Background()
	call := func(pattern, payload string) func() {
		return func() {
			_, _ = reg.Call(ctx, msregistry.Incoming{Transport: "test", Pattern: pattern, Payload: json.RawMessage(payload)})
		}
	}
	emit := func(pattern, payload string) func() {
		return func() {
			_ = reg.Emit(ctx, msregistry.Incoming{Transport: "test", Pattern: pattern, Payload: json.RawMessage(payload)})
		}
	}
	frame := func(kind, pattern string) func() {
		return func() {
			_, _ = reg.HandleFrame(ctx, "websocket", fmt.Appendf(nil, `{"kind":%q,"pattern":%q,"payload":null}`, kind, pattern), nil)
		}
	}
	tests := []struct {
		name string
		do   func()
		want string
	}{
		{"message ok", call("ok", "null"), "handled message ok test ok"},
		{"message answers an *Error", call("rpc.error", "null"), "handled message rpc.error test error"},
		{"message fails", call("plain.error", "null"), "handled message plain.error test error"},
		{"message panics", call("panics", "null"), "handled message panics test error"},
		{"message payload does not decode", call("wants.int", `"x"`), "handled message wants.int test error"},
		{"message through a frame", frame("message", "ok"), "handled message ok websocket ok"},
		{"event with two handlers", emit("noted", "null"), "handled event noted test ok"},
		{"event with a failing handler", emit("half.fails", "null"), "handled event half.fails test error"},
		{"event panics", emit("event.panics", "null"), "handled event event.panics test error"},
		{"event payload does not decode", emit("wants.int", `"x"`), "handled event wants.int test error"},
		{"event through a frame", frame("event", "noted"), "handled event noted websocket ok"},
		{"unknown message", call("nope\u009b\x1b[2J", "null"), "unknown message test"},
		{"unknown event", emit("nope", "null"), "unknown event test"},
		{"event pattern sent as a message", call("noted", "null"), "unknown message test"},
		{"unknown message frame", frame("message", "nope"), "unknown message websocket"},
		{"unknown event frame", frame("event", "nope"), "unknown event websocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.do()
			if got := rec.take(); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("observer saw %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestObserverIsNotCalledForInvalidFrames(t *testing.T) {
	reg, rec := newObservedRegistry(t)
	for _, frame := range []string{`not json`, `{"kind":"message"}`, `{"kind":"shout","pattern":"ok"}`} {
		_, _ = reg.HandleFrame(context.Background(), "websocket", []byte(frame), nil)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("observer saw %q for invalid frames, want nothing", got)
	}
}

func TestObserverNeverSeesAnUnregisteredPattern(t *testing.T) {
	reg, rec := newObservedRegistry(t)
	const sent = "users.\u009b[31mevil"
	_, _ = reg.Call(context.Background(), msregistry.Incoming{Transport: "test", Pattern: sent})
	_ = reg.Emit(context.Background(), msregistry.Incoming{Transport: "test", Pattern: sent})
	for _, s := range rec.take() {
		if strings.Contains(s, "evil") {
			t.Errorf("observer saw the client's pattern: %q", s)
		}
	}
}

// countingObserver counts calls by outcome.
type countingObserver struct {
	mu              sync.Mutex
	ok, failed, unk int
}

func (o *countingObserver) Handled(_ msregistry.Call, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.failed++
	} else {
		o.ok++
	}
}

func (o *countingObserver) Unknown(msregistry.Kind, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unk++
}

// ExampleWithObserver counts calls by outcome; fxforge/fxmetrics does the
// same with Prometheus counters and a latency histogram.
func ExampleWithObserver() {
	obs := &countingObserver{}
	reg := msregistry.New(msregistry.WithObserver(obs))
	_ = msregistry.Message(reg, "users.count", func(_ context.Context, group string) (int, error) {
		if group == "" {
			return 0, msregistry.NewError("bad_request", "group is required")
		}
		return 42, nil
	})
	client := msregistry.NewLocalClient(reg)
	ctx := context.Background()
	_, _ = client.Send(ctx, "users.count", "admins")
	_, _ = client.Send(ctx, "users.count", "")
	_, _ = client.Send(ctx, "users.cuont", "admins")
	fmt.Printf("ok %d, error %d, unknown pattern %d\n", obs.ok, obs.failed, obs.unk)
	// Output: ok 1, error 1, unknown pattern 1
}
