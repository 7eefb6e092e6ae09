package wsgateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

func TestReplyReachesClientWhileGatewayIsStillBusy(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		defer close(done)
		if _, _, err := conn.Read(ctx); err != nil {
			return err
		}
		if err := conn.WriteText("reply"); err != nil {
			return err
		}
		<-release // a database write, a log call: anything before the next Read
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, "request")
	if got := wstest.ReadText(t, c); got != "reply" {
		t.Fatalf("got %q", got)
	}
	select {
	case <-done:
		t.Fatal("gateway returned before the test released it")
	default:
	}
	close(release)
	c.Close(websocket.StatusNormalClosure, "")
	<-done
}

func TestPushFromAnotherGoroutineReachesClientWhileGatewaySitsInRead(t *testing.T) {
	push := make(chan *wsgateway.Conn, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		push <- conn
		_, _, err := conn.Read(ctx) // blocks: the client sends nothing
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	conn := <-push
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := conn.WriteText(fmt.Sprint("push ", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := map[string]bool{}
	for range 3 {
		got[wstest.ReadText(t, c)] = true
	}
	if len(got) != 3 {
		t.Fatalf("pushes %v", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestWritesFromOneGoroutineKeepTheirOrder(t *testing.T) {
	const n = 2000
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		go func() { // a second writer, so that writes queue behind each other
			for range n {
				if conn.WriteText("noise") != nil {
					return
				}
			}
		}()
		for i := range n {
			if err := conn.WriteText(fmt.Sprint(i)); err != nil {
				return err
			}
		}
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{OutboundQueue: 2 * n})
	c, _ := wstest.Dial(t, url, nil)
	next := 0
	for next < n {
		if s := wstest.ReadText(t, c); s != "noise" {
			if s != fmt.Sprint(next) {
				t.Fatalf("got %s, want %d", s, next)
			}
			next++
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestSameRequestIDGetsDifferentConnectionIDsAndHandlersReachTheirOwnConnection(t *testing.T) {
	reg := msregistry.New()
	err := msregistry.Message(reg, "whoami", func(ctx context.Context, _ struct{}) (string, error) {
		conn, ok := wsgateway.ConnFrom(ctx)
		if !ok {
			return "", fmt.Errorf("no connection in the handler context")
		}
		// A push through the connection itself, then the reply.
		if err := conn.WriteText("push:" + conn.ID()); err != nil {
			return "", err
		}
		wctx, _ := wsgateway.ContextFrom(ctx)
		return wctx.ConnID() + " " + wctx.RequestID() + " " + wctx.Query().Get("name"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := startServer(t, registryGateway(reg), wsgateway.Config{})
	hdr := &websocket.DialOptions{HTTPHeader: http.Header{identity.HeaderRequestID: {"same-id"}}}
	a, _ := wstest.Dial(t, url+"?name=ann", hdr)
	b, _ := wstest.Dial(t, url+"?name=bob", hdr)
	ask := func(c *websocket.Conn) (push, connID, reqID, name string) {
		write(t, c, `{"kind":"message","pattern":"whoami","id":"1"}`)
		push = strings.TrimPrefix(wstest.ReadText(t, c), "push:")
		var reply string
		f := readFrame(t, c)
		if err := json.Unmarshal(f.Payload, &reply); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(reply, " ")
		return push, parts[0], parts[1], parts[2]
	}
	pa, ida, ra, na := ask(a)
	pb, idb, rb, nb := ask(b)
	if ra != "same-id" || rb != "same-id" {
		t.Fatalf("request ids %q %q", ra, rb)
	}
	if ida == idb || ida == "" || len(ida) < 16 {
		t.Fatalf("connection ids %q and %q", ida, idb)
	}
	if pa != ida || pb != idb || na != "ann" || nb != "bob" {
		t.Fatalf("a: push %q id %q name %q; b: push %q id %q name %q", pa, ida, na, pb, idb, nb)
	}
	a.Close(websocket.StatusNormalClosure, "")
	b.Close(websocket.StatusNormalClosure, "")
}

func TestContextGivesURLQueryAndRemoteAddress(t *testing.T) {
	got := make(chan string, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		got <- ctx.URL().Path + " " + ctx.Query().Get("room") + " " + ctx.RemoteAddr()
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url+"?room=lobby", nil)
	s := <-got
	if !strings.HasPrefix(s, "/ws lobby 127.0.0.1:") {
		t.Fatalf("got %q", s)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestBatchingClientGetsQueuedFramesJoinedByNewlines(t *testing.T) {
	const n = 500
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		var wg sync.WaitGroup
		for w := range 4 { // four pushers, so that frames queue up
			wg.Go(func() {
				for i := range n / 4 {
					_ = conn.WriteText(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				}
			})
		}
		wg.Wait()
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{OutboundQueue: n})
	c, _ := wstest.Dial(t, url, &websocket.DialOptions{Subprotocols: []string{wsgateway.SubprotocolBatch}})
	if c.Subprotocol() != wsgateway.SubprotocolBatch {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	last := map[string]int{"0": -1, "1": -1, "2": -1, "3": -1}
	frames, messages := 0, 0
	for frames < n {
		msg := wstest.ReadText(t, c)
		messages++
		for _, f := range strings.Split(msg, "\n") {
			var v struct{ W, I int }
			if err := json.Unmarshal([]byte(f), &v); err != nil {
				t.Fatalf("frame %q: %v", f, err)
			}
			w := fmt.Sprint(v.W)
			if v.I != last[w]+1 {
				t.Fatalf("pusher %s: got %d after %d", w, v.I, last[w])
			}
			last[w] = v.I
			frames++
		}
	}
	if messages >= n {
		t.Fatalf("%d frames came in %d messages: nothing was batched", n, messages)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestClientWithoutBatchingGetsOneFramePerMessage(t *testing.T) {
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		for i := range 200 {
			_ = conn.WriteText(fmt.Sprint(i))
		}
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	for i := range 200 {
		if got := wstest.ReadText(t, c); got != fmt.Sprint(i) {
			t.Fatalf("got %q, want %d", got, i)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestBadOriginPatternIsReportedByValidate(t *testing.T) {
	err := wsgateway.Config{OriginPatterns: []string{"example.com", "[bad"}}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"[bad"`) {
		t.Fatalf("Validate: %v", err)
	}
	if err := (wsgateway.Config{OriginPatterns: []string{"*.example.com"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
