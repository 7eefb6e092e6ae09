package wsgateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

func frameRegistry(t *testing.T) *msregistry.Registry {
	reg := echoRegistry(t)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(msregistry.Message(reg, "users.create", func(_ context.Context, u user) (user, error) { return u, nil }))
	must(msregistry.Message(reg, "fails", func(context.Context, struct{}) (int, error) {
		return 0, errors.New("database is down")
	}))
	must(msregistry.Message(reg, "refuses", func(context.Context, struct{}) (int, error) {
		return 0, msregistry.NewError("conflict", "name taken")
	}))
	must(msregistry.Message(reg, "panics", func(context.Context, struct{}) (int, error) { panic("boom") }))
	must(msregistry.Event(reg, "evt.fails", func(context.Context, struct{}) error { return errors.New("logged only") }))
	return reg
}

func TestBadFramesGetErrorFramesAndConnectionStaysOpen(t *testing.T) {
	_, url := startServer(t, registryGateway(frameRegistry(t)), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	tests := []struct {
		name, frame, code, mention string
	}{
		{"malformed JSON", `{"kind":"message",`, msregistry.CodeInvalidFrame, "JSON"},
		{"array frame", `[1,2]`, msregistry.CodeInvalidFrame, "object"},
		{"string frame", `"hello"`, msregistry.CodeInvalidFrame, "object"},
		{"number frame", `42`, msregistry.CodeInvalidFrame, "object"},
		{"null frame", `null`, msregistry.CodeInvalidFrame, "object"},
		{"missing kind", `{"pattern":"echo","id":"k"}`, msregistry.CodeInvalidFrame, "kind"},
		{"unknown kind", `{"kind":"shout","pattern":"echo","id":"k"}`, msregistry.CodeInvalidFrame, "shout"},
		{"missing pattern", `{"kind":"message","id":"k"}`, msregistry.CodeInvalidFrame, "pattern"},
		{"empty pattern", `{"kind":"message","pattern":"","id":"k"}`, msregistry.CodeInvalidFrame, "pattern"},
		{"metadata not strings", `{"kind":"message","pattern":"echo","metadata":{"a":1},"id":"k"}`, msregistry.CodeInvalidFrame, "metadata"},
		{"unknown message pattern", `{"kind":"message","pattern":"nope","id":"k"}`, msregistry.CodeNotFound, "nope"},
		{"unknown event pattern", `{"kind":"event","pattern":"nope.evt","id":"k"}`, msregistry.CodeNotFound, "nope.evt"},
		{"payload of the wrong type", `{"kind":"message","pattern":"users.create","payload":{"name":"a","age":"old"},"id":"k"}`, msregistry.CodeInvalidPayload, "age"},
		{"handler error", `{"kind":"message","pattern":"fails","id":"k"}`, msregistry.CodeInternal, "internal error"},
		{"handler refusal", `{"kind":"message","pattern":"refuses","id":"k"}`, "conflict", "name taken"},
		{"handler panic", `{"kind":"message","pattern":"panics","id":"k"}`, msregistry.CodeInternal, "internal error"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, c, tt.frame)
			f := readFrame(t, c)
			if f.Kind != "error" || f.Error == nil || f.Error.Code != tt.code {
				t.Fatalf("reply %+v, want error %s", f, tt.code)
			}
			if !strings.Contains(f.Error.Message, tt.mention) {
				t.Fatalf("message %q does not mention %q", f.Error.Message, tt.mention)
			}
			if strings.Contains(tt.frame, `"id":"k"`) && f.ID != "k" {
				t.Fatalf("id %q not echoed", f.ID)
			}
			if strings.Contains(f.Error.Message, "database is down") {
				t.Fatal("internal error details reached the client")
			}
			// The next good frame on the same connection is answered.
			id := fmt.Sprintf("good-%d", i)
			write(t, c, `{"kind":"message","pattern":"echo","payload":"ok","metadata":{},"id":"`+id+`"}`)
			if g := readFrame(t, c); g.Kind != "response" || g.ID != id || string(g.Payload) != `"ok"` {
				t.Fatalf("good frame after %s: %+v", tt.name, g)
			}
		})
	}
	// An event handler's error is logged, never sent: the next reply is the
	// next message's.
	write(t, c, `{"kind":"event","pattern":"evt.fails","metadata":{}}`)
	write(t, c, `{"kind":"message","pattern":"echo","payload":1,"id":"after-event"}`)
	if g := readFrame(t, c); g.ID != "after-event" {
		t.Fatalf("reply %+v, want the message's", g)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestPipelinedRequestsAreEachAnsweredOnceWithTheirID(t *testing.T) {
	_, url := startServer(t, registryGateway(echoRegistry(t)), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	const n = 1000
	go func() {
		for i := range n {
			frame := fmt.Sprintf(`{"kind":"message","pattern":"echo","payload":%d,"metadata":{},"id":"p-%d"}`, i, i)
			if err := c.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
				return
			}
		}
	}()
	seen := make(map[string]bool, n)
	for range n {
		f := readFrame(t, c)
		want := "p-" + string(f.Payload)
		if f.Kind != "response" || f.ID != want {
			t.Fatalf("reply %+v", f)
		}
		if seen[f.ID] {
			t.Fatalf("%s answered twice", f.ID)
		}
		seen[f.ID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct replies, want %d", len(seen), n)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestNumericIDsAreEchoedVerbatim(t *testing.T) {
	_, url := startServer(t, registryGateway(echoRegistry(t)), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, `{"kind":"message","pattern":"echo","payload":null,"metadata":{"values":{"a":"b"}},"id":17}`)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(wstest.ReadText(t, c)), &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["id"]) != "17" {
		t.Fatalf("id %s, want 17", raw["id"])
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestServeBoundsConcurrencyPerConnection(t *testing.T) {
	const bound = 4
	var running, peak atomic.Int32
	release := make(chan struct{})
	reg := msregistry.New()
	err := msregistry.Message(reg, "work", func(_ context.Context, n int) (int, error) {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		<-release
		running.Add(-1)
		return n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := startServer(t, registryGateway(reg), wsgateway.Config{MaxConcurrency: bound})
	c, _ := wstest.Dial(t, url, nil)
	const n = 20
	for i := range n {
		write(t, c, fmt.Sprintf(`{"kind":"message","pattern":"work","payload":%d,"id":"w%d"}`, i, i))
	}
	eventually(t, "bound reached", func() bool { return running.Load() == bound })
	time.Sleep(50 * time.Millisecond) // more would start now if the bound leaked
	if p := peak.Load(); p != bound {
		t.Fatalf("peak concurrency %d, want %d", p, bound)
	}
	close(release)
	got := map[string]bool{}
	for range n {
		got[readFrame(t, c).ID] = true
	}
	if len(got) != n || peak.Load() != bound {
		t.Fatalf("%d replies, peak %d", len(got), peak.Load())
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestFastRequestPipelinedBehindASlowOneIsAnsweredFirst(t *testing.T) {
	reg := msregistry.New()
	release := make(chan struct{})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(msregistry.Message(reg, "slow", func(context.Context, struct{}) (string, error) {
		<-release
		return "slow", nil
	}))
	must(msregistry.Message(reg, "fast", func(context.Context, struct{}) (string, error) { return "fast", nil }))
	_, url := startServer(t, registryGateway(reg), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, `{"kind":"message","pattern":"slow","id":"s"}`)
	for i := range 3 {
		write(t, c, fmt.Sprintf(`{"kind":"message","pattern":"fast","id":"f%d"}`, i))
	}
	got := map[string]bool{}
	for range 3 { // answered while the slow one is still running, in any order
		got[readFrame(t, c).ID] = true
	}
	if !got["f0"] || !got["f1"] || !got["f2"] {
		t.Fatalf("replies %v, want f0, f1 and f2", got)
	}
	close(release)
	if f := readFrame(t, c); f.ID != "s" {
		t.Fatalf("reply %+v, want s", f)
	}
	// And the connection keeps serving.
	for i := range 100 {
		id := fmt.Sprintf("after-%d", i)
		write(t, c, `{"kind":"message","pattern":"fast","id":"`+id+`"}`)
		if f := readFrame(t, c); f.ID != id {
			t.Fatalf("reply %+v, want %s", f, id)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestHandlersOwnWritesPrecedeItsReply(t *testing.T) {
	conns := make(chan *wsgateway.Conn, 1)
	reg := msregistry.New()
	err := msregistry.Message(reg, "chatty", func(context.Context, struct{}) (string, error) {
		c := <-conns
		conns <- c
		if err := c.WriteText("note"); err != nil {
			return "", err
		}
		return "reply", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		conns <- conn
		return wsgateway.Serve(ctx, conn, reg)
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	for i := range 20 {
		write(t, c, fmt.Sprintf(`{"kind":"message","pattern":"chatty","id":"%d"}`, i))
		if got := wstest.ReadText(t, c); got != "note" {
			t.Fatalf("round %d: first message %q, want the handler's note before its reply", i, got)
		}
		if f := readFrame(t, c); string(f.Payload) != `"reply"` {
			t.Fatalf("round %d: reply %+v", i, f)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestPingsAndPongsNeverReachTheAdapter(t *testing.T) {
	_, url := startServer(t, registryGateway(echoRegistry(t)),
		wsgateway.Config{PingInterval: 5 * time.Millisecond, PongTimeout: time.Second})
	c, _ := wstest.Dial(t, url, nil)
	frames := make(chan string, 16)
	go func() { // the client's reader answers the server's pings and sees pongs
		defer close(frames)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			frames <- string(data)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 10 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(30 * time.Millisecond) // several server pings, answered by the client
	write(t, c, `{"kind":"message","pattern":"echo","payload":"x","id":"only"}`)
	var f frame
	if err := json.Unmarshal([]byte(<-frames), &f); err != nil || f.ID != "only" || f.Kind != "response" {
		t.Fatalf("first frame %+v (%v): pings or pongs reached the adapter", f, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	for extra := range frames {
		t.Fatalf("unexpected frame %q", extra)
	}
}
