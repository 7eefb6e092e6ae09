package msregistry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fxforge/fxforge/msregistry"
)

// signup validates with a value receiver.
type signup struct {
	Name string `json:"name"`
}

func (s signup) Validate() error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	return nil
}

// rename validates with a pointer receiver.
type rename struct {
	To string `json:"to"`
}

func (r *rename) Validate() error {
	if len(r.To) > 8 {
		return msregistry.NewError("too_long", "to: at most 8 characters")
	}
	return nil
}

func TestValidateRunsBeforeTheHandler(t *testing.T) {
	reg := msregistry.New()
	var ran int
	must(t, msregistry.Message(reg, "signup", func(_ context.Context, in signup) (string, error) { ran++; return in.Name, nil }))
	must(t, msregistry.Message(reg, "rename", func(_ context.Context, in rename) (string, error) { ran++; return in.To, nil }))
	must(t, msregistry.Message(reg, "rename.ptr", func(_ context.Context, in *rename) (string, error) {
		ran++
		if in == nil {
			return "", nil
		}
		return in.To, nil
	}))
	must(t, msregistry.Event(reg, "signed.up", func(context.Context, signup) error { ran++; return nil }))

	for _, tc := range []struct {
		pattern, payload string
		message          string // "" for success
	}{
		{"signup", `{"name":""}`, "name is required"},
		{"signup", `null`, "name is required"},
		{"signup", `{"name":"ada"}`, ""},
		{"rename", `{"to":"much too long"}`, "to: at most 8 characters"},
		{"rename", `{"to":"short"}`, ""},
		{"rename.ptr", `{"to":"much too long"}`, "to: at most 8 characters"},
		{"rename.ptr", `null`, ""}, // nothing sent, nothing to validate
	} {
		before := ran
		_, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: tc.pattern, Payload: []byte(tc.payload)})
		if tc.message == "" {
			if err != nil || ran != before+1 {
				t.Errorf("%s %s: err = %v, handler ran %d times", tc.pattern, tc.payload, err, ran-before)
			}
			continue
		}
		var e *msregistry.Error
		if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidPayload || e.Message != tc.message {
			t.Errorf("%s %s: err = %v, want invalid_payload: %s", tc.pattern, tc.payload, err, tc.message)
		}
		if ran != before {
			t.Errorf("%s %s: handler ran after a failed Validate", tc.pattern, tc.payload)
		}
	}

	before := ran
	err := reg.Emit(context.Background(), msregistry.Incoming{Pattern: "signed.up", Payload: []byte(`{}`)})
	var e *msregistry.Error
	if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidPayload || ran != before {
		t.Fatalf("Emit = %v (handler ran %d times), want invalid_payload and no run", err, ran-before)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
