package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type reply struct {
	Kind    string          `json:"kind"`
	Pattern string          `json:"pattern"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
	Error   *struct{ Code, Message string }
}

func TestHelloWebSockets(t *testing.T) {
	t.Setenv("APP_NAME", "hello-test")
	var srv *fxforge.Server
	app := fxtest.New(t,
		fx.Supply(zap.NewNop()),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		App,
		fx.Populate(&srv),
	)
	app.RequireStart()
	defer app.RequireStop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+srv.Addr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	_, greeting, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "connected:" + resp.Header.Get(identity.HeaderRequestID); string(greeting) != want {
		t.Fatalf("greeting %q, want %q", greeting, want)
	}

	send := func(frame string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() reply {
		t.Helper()
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var r reply
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("reply %s: %v", data, err)
		}
		return r
	}

	// The upstream frame, exactly: metadata {} and no id.
	send(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{}}`)
	r := recv()
	if r.Kind != "response" || r.Pattern != "app.info" {
		t.Fatalf("reply %+v", r)
	}
	var info AppInfo
	if err := json.Unmarshal(r.Payload, &info); err != nil {
		t.Fatal(err)
	}
	if info != (AppInfo{AppName: "hello-test", Transport: "websocket", Pings: 0}) {
		t.Fatalf("app.info = %+v", info)
	}

	// Events return nothing, but they count.
	for range 3 {
		send(`{"kind":"event","pattern":"app.ping","payload":null,"metadata":{"values":{}}}`)
	}
	var last AppInfo
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; last.Pings != 3; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("pings = %d, want 3", last.Pings)
		}
		send(fmt.Sprintf(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"n-%d"}`, i))
		r := recv()
		if r.Kind != "response" || r.ID != fmt.Sprintf("n-%d", i) {
			t.Fatalf("reply %+v: an event must not be answered", r)
		}
		if err := json.Unmarshal(r.Payload, &last); err != nil {
			t.Fatal(err)
		}
	}

	send(`{"kind":"message","pattern":"app.nope","metadata":{},"id":"x"}`)
	if r := recv(); r.Kind != "error" || r.ID != "x" || r.Error == nil || !strings.Contains(r.Error.Message, "app.nope") {
		t.Fatalf("unknown pattern reply %+v", r)
	}
	c.Close(websocket.StatusNormalClosure, "")
}
