package wsgateway_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

// roomGateway joins the room named in the query, then relays every message
// it reads to that room, except the sender.
func roomGateway(hub *wsgateway.Hub) wsgateway.Gateway {
	return wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		room := ctx.Query().Get("room")
		if err := hub.Join(conn, room); err != nil {
			return err
		}
		if err := conn.WriteText("joined " + room); err != nil {
			return err
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return err
			}
			if string(data) == "all" {
				err = hub.Emit(ctx, wsgateway.ToAll(), "everyone", "hi")
			} else {
				err = hub.Send(ctx, wsgateway.ToRoom(room).Except(conn.ID()), data)
			}
			if err != nil {
				return err
			}
		}
	})
}

func TestRoomsDeliverToMembersOnlyAndNotToTheSender(t *testing.T) {
	hub := wsgateway.NewHub(wsgateway.HubConfig{})
	_, url := startServer(t, roomGateway(hub), wsgateway.Config{Hub: hub})
	ann, _ := wstest.Dial(t, url+"?room=lobby", nil)
	bob, _ := wstest.Dial(t, url+"?room=lobby", nil)
	cid, _ := wstest.Dial(t, url+"?room=kitchen", nil)
	for _, c := range []*websocket.Conn{ann, bob, cid} {
		wstest.ReadText(t, c) // joined
	}
	if n := hub.Count("lobby"); n != 2 {
		t.Fatalf("lobby has %d members", n)
	}
	write(t, ann, "hello lobby")
	if got := wstest.ReadText(t, bob); got != "hello lobby" {
		t.Fatalf("bob got %q", got)
	}
	write(t, cid, "hello kitchen") // nobody else in the kitchen
	write(t, ann, "all")
	want := `{"kind":"event","pattern":"everyone","payload":"hi","metadata":{}}`
	for name, c := range map[string]*websocket.Conn{"ann": ann, "bob": bob, "cid": cid} {
		if got := wstest.ReadText(t, c); got != want { // not "hello lobby" echoed, nor the kitchen's
			t.Fatalf("%s got %q, want %q", name, got, want)
		}
	}
	bob.Close(websocket.StatusNormalClosure, "")
	eventually(t, "bob leaves the lobby", func() bool { return hub.Count("lobby") == 1 })
	if m := hub.Members("lobby"); len(m) != 1 {
		t.Fatalf("members %v", m)
	}
	ann.Close(websocket.StatusNormalClosure, "")
	cid.Close(websocket.StatusNormalClosure, "")
	eventually(t, "hub empty", func() bool { return hub.Len() == 0 && hub.Count("kitchen") == 0 })
}

func TestSendToOneConnectionAndJoinLeave(t *testing.T) {
	hub := wsgateway.NewHub(wsgateway.HubConfig{})
	conns := make(chan *wsgateway.Conn, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		conns <- conn
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{Hub: hub})
	c, _ := wstest.Dial(t, url, nil)
	conn := <-conns
	if err := hub.Send(context.Background(), wsgateway.ToConn(conn.ID()), []byte("just you")); err != nil {
		t.Fatal(err)
	}
	if got := wstest.ReadText(t, c); got != "just you" {
		t.Fatalf("got %q", got)
	}
	for _, room := range []string{"a", "b", "a"} {
		if err := hub.Join(conn, room); err != nil {
			t.Fatal(err)
		}
	}
	if r := hub.Rooms(conn); !slices.Equal(r, []string{"a", "b"}) {
		t.Fatalf("rooms %v", r)
	}
	hub.Leave(conn, "a")
	hub.Leave(conn, "nope")
	if r := hub.Rooms(conn); !slices.Equal(r, []string{"b"}) || hub.Count("a") != 0 {
		t.Fatalf("rooms %v, a has %d", r, hub.Count("a"))
	}
	other := wsgateway.NewHub(wsgateway.HubConfig{})
	if err := other.Join(conn, "x"); !errors.Is(err, wsgateway.ErrNotInHub) {
		t.Fatalf("join through another hub: %v", err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	<-conn.Done()
	eventually(t, "left", func() bool { return hub.Len() == 0 })
	if err := hub.Join(conn, "b"); !errors.Is(err, wsgateway.ErrClosed) {
		t.Fatalf("join after close: %v", err)
	}
}

func TestRoomBroadcastClosesSlowConsumerWith1013WithoutStallingOthers(t *testing.T) {
	hub := wsgateway.NewHub(wsgateway.HubConfig{})
	rec := &recorder{Gateway: roomGateway(hub)}
	_, url := startServer(t, rec, wsgateway.Config{Hub: hub, OutboundQueue: 16, WriteTimeout: time.Second})
	slow, _ := wstest.Dial(t, url+"?room=r", nil)
	fast, _ := wstest.Dial(t, url+"?room=r", nil)
	fast.SetReadLimit(-1)
	wstest.ReadText(t, fast)
	_ = slow // never reads again
	eventually(t, "both joined", func() bool { return hub.Count("r") == 2 })

	const n = 300
	payload := strings.Repeat("x", 32<<10)
	got := make(chan int, n)
	go func() {
		defer close(got)
		for {
			_, data, err := fast.Read(context.Background())
			if err != nil {
				return
			}
			got <- len(data)
		}
	}()
	for i := range n {
		// Send returns at once: it only queues.
		if err := hub.Send(context.Background(), wsgateway.ToRoom("r"), []byte(payload)); err != nil {
			t.Fatal(err)
		}
		if l := <-got; l != len(payload) {
			t.Fatalf("message %d: %d bytes", i, l)
		}
	}
	st := rec.wait(t, 1)[0]
	if st.Code != wsgateway.StatusTryAgainLater || !errors.Is(st.Cause, wsgateway.ErrSlowConsumer) {
		t.Fatalf("slow client status %v cause %v", st, st.Cause)
	}
	if n := hub.Count("r"); n != 1 {
		t.Fatalf("room has %d members after the slow one was closed", n)
	}
	fast.Close(websocket.StatusNormalClosure, "")
	for range got {
	}
}

func ExampleHub() {
	hub := wsgateway.NewHub(wsgateway.HubConfig{})
	chat := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		room := ctx.Query().Get("room")
		if err := hub.Join(conn, room); err != nil {
			return err
		}
		for {
			_, text, err := conn.Read(ctx)
			if err != nil {
				return err
			}
			// Everyone else in the room gets it, on every node.
			if err := hub.Emit(ctx, wsgateway.ToRoom(room).Except(conn.ID()), "chat.message", string(text)); err != nil {
				return err
			}
		}
	})
	srv := wsgateway.NewServer(chat, wsgateway.Config{Path: "/chat", Hub: hub})
	fmt.Println(srv.Path())
	// Output: /chat
}
