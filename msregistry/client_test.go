package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

func TestLocalClientSend(t *testing.T) {
	reg, _ := newTestRegistry(t)
	c := msregistry.NewLocalClient(reg)
	raw, err := c.Send(context.Background(), "count.double", countReq{Count: 5, Name: "five"})
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"double":10,"name":"five"}` {
		t.Errorf("Send = %s", raw)
	}
	// A json.RawMessage payload goes as it is.
	raw, err = c.Send(context.Background(), "count.double", json.RawMessage(`{"count":1}`))
	if err != nil || string(raw) != `{"double":2,"name":""}` {
		t.Errorf("Send raw = %s, %v", raw, err)
	}
}

func TestTypedSend(t *testing.T) {
	reg, _ := newTestRegistry(t)
	c := msregistry.NewLocalClient(reg)
	got, err := msregistry.Send[countResp](context.Background(), c, "count.double", map[string]int{"count": 7})
	if err != nil {
		t.Fatal(err)
	}
	if got.Double != 14 {
		t.Errorf("Send[countResp] = %+v", got)
	}
	n, err := msregistry.Send[*countResp](context.Background(), c, "echo.any", nil)
	if err != nil || n != nil {
		t.Errorf("Send of null = %v, %v; want nil, nil", n, err)
	}
	if _, err := msregistry.Send[int](context.Background(), c, "count.double", nil); err == nil {
		t.Error("Send[int] of an object: err = nil")
	}
}

func TestLocalClientCarriesContextAndMetadata(t *testing.T) {
	reg, _ := newTestRegistry(t)
	c := msregistry.NewLocalClient(reg)
	ctx := identity.WithIdentity(identity.WithRequestID(context.Background(), "req-l"), &identity.Identity{Subject: "bob"})
	ctx = msregistry.WithMetadata(ctx, msregistry.Metadata{"trace": "t-1"})
	got, err := msregistry.Send[callInfo](ctx, c, "info", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Transport != msregistry.TransportLocal || got.Pattern != "info" || got.RequestID != "req-l" ||
		got.Subject != "bob" || got.Metadata["trace"] != "t-1" || got.Greeting != "hello" {
		t.Errorf("handler context = %+v", got)
	}
}

func TestLocalClientErrorsAreErrors(t *testing.T) {
	reg, _ := newTestRegistry(t)
	c := msregistry.NewLocalClient(reg)
	tests := []struct {
		name, pattern string
		payload       any
		code          string
	}{
		{"handler *Error", "fail.rpc", nil, "quota_exceeded"},
		{"handler plain error", "fail.plain", nil, msregistry.CodeInternal},
		{"handler panic", "panic", nil, msregistry.CodeInternal},
		{"unknown pattern", "nope", nil, msregistry.CodeNotFound},
		{"bad payload", "count.double", map[string]string{"count": "x"}, msregistry.CodeInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := msregistry.Send[countResp](context.Background(), c, tt.pattern, tt.payload)
			var e *msregistry.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Errorf("Send = %v, want *Error with code %s", err, tt.code)
			}
		})
	}
	if _, err := c.Send(context.Background(), "count.double", make(chan int)); err == nil {
		t.Error("Send of an unencodable payload: err = nil")
	}
}

func TestLocalClientEmit(t *testing.T) {
	reg := msregistry.New()
	var got []string
	for _, name := range []string{"a", "b"} {
		if err := msregistry.Event(reg, "user.created", func(ctx context.Context, in struct{ Name string }) error {
			c, _ := msregistry.CallFrom(ctx)
			got = append(got, name+":"+in.Name+":"+c.Transport)
			return errors.New("ignored")
		}); err != nil {
			t.Fatal(err)
		}
	}
	c := msregistry.NewLocalClient(reg)
	if err := c.Emit(context.Background(), "user.created", struct{ Name string }{"ann"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "a:ann:local" || got[1] != "b:ann:local" {
		t.Errorf("handlers saw %v", got)
	}
	var e *msregistry.Error
	if err := c.Emit(context.Background(), "nope", nil); !errors.As(err, &e) || e.Code != msregistry.CodeNotFound {
		t.Errorf("Emit to unknown pattern = %v", err)
	}
}
