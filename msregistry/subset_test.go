package msregistry_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fxforge/fxforge/msregistry"
)

func TestSubsetServesOnlyItsPatterns(t *testing.T) {
	reg := msregistry.New()
	echo := func(_ context.Context, s string) (string, error) { return s, nil }
	chat := reg.Subset("chat.*", "app.info")
	// Registered after the view was made: still served by it.
	must(t, msregistry.Message(reg, "chat.send", echo))
	must(t, msregistry.Message(reg, "app.info", echo))
	must(t, msregistry.Message(reg, "admin.stats", echo))
	must(t, msregistry.Event(reg, "chat.typing", func(context.Context, any) error { return nil }))
	// Registered through the view: on the registry too.
	must(t, msregistry.Message(chat, "chat.history", echo))

	for _, p := range []string{"chat.send", "app.info", "chat.history"} {
		if _, err := chat.Call(context.Background(), msregistry.Incoming{Pattern: p, Payload: []byte(`"x"`)}); err != nil {
			t.Errorf("view: %s: %v", p, err)
		}
		if _, err := reg.Call(context.Background(), msregistry.Incoming{Pattern: p, Payload: []byte(`"x"`)}); err != nil {
			t.Errorf("registry: %s: %v", p, err)
		}
	}
	_, err := chat.Call(context.Background(), msregistry.Incoming{Pattern: "admin.stats"})
	var e *msregistry.Error
	if !errors.As(err, &e) || e.Code != msregistry.CodeNotFound || e.Message != `no message handler for pattern "admin.stats"` {
		t.Fatalf("view call of admin.stats = %v, want not_found", err)
	}
	if err := chat.Emit(context.Background(), msregistry.Incoming{Pattern: "chat.typing"}); err != nil {
		t.Errorf("view emit: %v", err)
	}
	reply, _ := chat.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"message","pattern":"admin.stats","id":"a"}`), nil)
	if want := `{"kind":"error","pattern":"admin.stats","id":"a","error":{"code":"not_found","message":"no message handler for pattern \"admin.stats\""}}`; string(reply) != want {
		t.Fatalf("frame reply %s, want %s", reply, want)
	}

	messages, events := chat.Patterns()
	slices.Sort(messages)
	if !slices.Equal(messages, []string{"app.info", "chat.history", "chat.send"}) || !slices.Equal(events, []string{"chat.typing"}) {
		t.Fatalf("view patterns %v %v", messages, events)
	}

	if err := msregistry.Message(chat, "admin.reset", echo); !errors.Is(err, msregistry.ErrOutsideSubset) {
		t.Fatalf("registering admin.reset on the chat view = %v, want ErrOutsideSubset", err)
	}
	if reg.Subset("app.info", "chat.*") != chat {
		t.Error("Subset with the same patterns made a second view")
	}
	narrow := chat.Subset("chat.send", "admin.stats")
	if _, err := narrow.Call(context.Background(), msregistry.Incoming{Pattern: "admin.stats"}); !errors.As(err, &e) || e.Code != msregistry.CodeNotFound {
		t.Errorf("a subset of a view serves admin.stats: %v", err)
	}
	if _, err := narrow.Call(context.Background(), msregistry.Incoming{Pattern: "chat.send", Payload: []byte(`"x"`)}); err != nil {
		t.Errorf("narrow view: chat.send: %v", err)
	}
}
