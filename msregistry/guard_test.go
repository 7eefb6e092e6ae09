package msregistry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

func TestGuardsCheckTheCallerBeforeTheHandler(t *testing.T) {
	reg := msregistry.New()
	var ran int
	handler := func(context.Context, struct{}) (string, error) { ran++; return "ok", nil }
	if err := msregistry.Message(reg, "admin.stats", handler, msregistry.WithGuards(identity.AnyRole("admin"))); err != nil {
		t.Fatal(err)
	}
	if err := msregistry.Message(reg, "me", handler, msregistry.WithGuards(identity.Authenticated())); err != nil {
		t.Fatal(err)
	}
	failing := identity.GuardFunc(func(context.Context, *identity.Identity) error { return errors.New("database down") })
	if err := msregistry.Message(reg, "broken", handler, msregistry.WithGuards(failing)); err != nil {
		t.Fatal(err)
	}

	anonymous := context.Background()
	user := identity.WithIdentity(context.Background(), &identity.Identity{Subject: "ada"})
	admin := identity.WithIdentity(context.Background(), &identity.Identity{Subject: "root", Roles: []string{"admin"}})
	for _, tc := range []struct {
		ctx     context.Context
		pattern string
		code    string // "" for success
		message string
	}{
		{anonymous, "admin.stats", msregistry.CodeUnauthorized, "authentication required"},
		{user, "admin.stats", msregistry.CodeForbidden, "requires one of the roles: admin"},
		{admin, "admin.stats", "", ""},
		{anonymous, "me", msregistry.CodeUnauthorized, "authentication required"},
		{user, "me", "", ""},
		{admin, "broken", msregistry.CodeInternal, "internal error"},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.pattern, subject(tc.ctx)), func(t *testing.T) {
			before := ran
			// The payload does not decode into struct{}: a refused caller
			// must learn nothing about it.
			_, err := reg.Call(tc.ctx, msregistry.Incoming{Pattern: tc.pattern, Payload: []byte(`"not an object"`)})
			var e *msregistry.Error
			switch {
			case tc.code == "":
				if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidPayload {
					t.Fatalf("allowed caller: err = %v, want the payload's invalid_payload", err)
				}
			case !errors.As(err, &e) || e.Code != tc.code || e.Message != tc.message:
				t.Fatalf("err = %v, want %s: %s", err, tc.code, tc.message)
			}
			if ran != before {
				t.Fatal("the handler ran")
			}
		})
	}
	if _, err := reg.Call(admin, msregistry.Incoming{Pattern: "admin.stats"}); err != nil || ran != 1 {
		t.Fatalf("admin call: %v, handler ran %d times", err, ran)
	}
}

func subject(ctx context.Context) string {
	if id, ok := identity.FromContext(ctx); ok {
		return id.Subject
	}
	return "anonymous"
}

func TestGuardedEventHandlerIsSkippedAndEmitSaysWhy(t *testing.T) {
	reg := msregistry.New()
	var open, guarded int
	if err := msregistry.Event(reg, "room.join", func(context.Context, any) error { open++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := msregistry.Event(reg, "room.join", func(context.Context, any) error { guarded++; return nil },
		msregistry.WithGuards(identity.Authenticated())); err != nil {
		t.Fatal(err)
	}
	err := reg.Emit(context.Background(), msregistry.Incoming{Pattern: "room.join"})
	var e *msregistry.Error
	if !errors.As(err, &e) || e.Code != msregistry.CodeUnauthorized {
		t.Fatalf("Emit = %v, want unauthorized", err)
	}
	if open != 1 || guarded != 0 {
		t.Fatalf("open handler ran %d times, guarded one %d; want 1 and 0", open, guarded)
	}
	ctx := identity.WithIdentity(context.Background(), &identity.Identity{Subject: "ada"})
	if err := reg.Emit(ctx, msregistry.Incoming{Pattern: "room.join"}); err != nil || guarded != 1 {
		t.Fatalf("Emit as ada = %v, guarded handler ran %d times", err, guarded)
	}
}

func TestGuardRefusalIsAnErrorFrame(t *testing.T) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "admin.stats", func(context.Context, struct{}) (int, error) { return 1, nil },
		msregistry.WithGuards(identity.Authenticated())); err != nil {
		t.Fatal(err)
	}
	got, ok := reg.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"message","pattern":"admin.stats","id":1}`), nil)
	want := `{"kind":"error","pattern":"admin.stats","id":1,"error":{"code":"unauthorized","message":"authentication required"}}`
	if !ok || string(got) != want {
		t.Fatalf("reply %s, want %s", got, want)
	}
}
