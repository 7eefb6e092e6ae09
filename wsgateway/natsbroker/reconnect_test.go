package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// Generous deadlines: reconnects take a few milliseconds here, but the
// machine may be busy.
const (
	reconnectDeadline = 30 * time.Second
	probeInterval     = 100 * time.Millisecond
)

// awaitProbe has from send "to <to.id> probe <n>" until to's stream shows
// one of them, skipping whatever else comes first.
func awaitProbe(t *testing.T, from, to *client, toStream <-chan string, what string) {
	t.Helper()
	deadline := time.After(reconnectDeadline)
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for n := 0; ; n++ {
		from.send(t, fmt.Sprintf("to %s probe %d", to.id, n))
		for wait := true; wait; {
			select {
			case m, ok := <-toStream:
				if !ok {
					t.Fatalf("%s: the client's connection ended", what)
				}
				if strings.HasPrefix(m, "probe ") {
					return
				}
			case <-tick.C:
				wait = false
			case <-deadline:
				t.Fatalf("timed out after %v waiting for %s", reconnectDeadline, what)
			}
		}
	}
}

// sendRun has from send n messages numbered with format and fails unless
// stream shows them all, in order, after leftovers of earlier steps that
// leftover accepts.
func sendRun(t *testing.T, from *client, stream <-chan string, format string, n int, leftover func(string) bool) {
	t.Helper()
	for i := range n {
		from.send(t, fmt.Sprintf(format, i))
	}
	for next := 0; next < n; {
		select {
		case m := <-stream:
			if next == 0 && leftover(m) {
				continue
			}
			if want := fmt.Sprintf(format, next); m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
			next++
		case <-time.After(reconnectDeadline):
			t.Fatalf("got %d of %d messages", next, n)
		}
	}
}

func TestNodesServeLocalClientsWhileNATSIsDownAndShareRoomsAgainAfterItReturns(t *testing.T) {
	ns := startNATS(t, -1)
	port := natsPort(ns)
	ncA, ncB := connect(t, ns.ClientURL()), connect(t, ns.ClientURL())
	a := startNode(t, ncA, wsgateway.Config{})
	b := startNode(t, ncB, wsgateway.Config{})
	ann := join(t, a, "lobby")
	amy := join(t, a, "lobby")
	bob := join(t, b, "lobby")
	ben := join(t, b, "lobby")
	ann.send(t, "before")
	for name, c := range map[string]*client{"amy": amy, "bob": bob, "ben": ben} {
		c.expect(t, name, "before")
	}

	stopNATS(ns)
	eventually(t, reconnectDeadline, "both nodes to notice NATS is gone", func() bool {
		return !ncA.IsConnected() && !ncB.IsConnected()
	})
	ann.send(t, "ann while down")
	amy.expect(t, "amy", "ann while down")
	bob.send(t, "bob while down")
	ben.expect(t, "ben", "bob while down")
	ada := join(t, a, "lobby") // new clients are served too
	ada.send(t, "ada while down")
	ann.expect(t, "ann", "ada while down")
	amy.expect(t, "amy", "ada while down")

	startNATS(t, port)
	eventually(t, reconnectDeadline, "both nodes to reconnect", func() bool {
		return ncA.IsConnected() && ncB.IsConnected()
	})
	// What was sent while NATS was down may or may not cross (see
	// TestPublishWhileNATSIsDown...); what is sent now does, both ways.
	annStream, bobStream := ann.stream(t), bob.stream(t)
	awaitProbe(t, ann, bob, bobStream, "a message from node A to reach node B")
	awaitProbe(t, bob, ann, annStream, "a message from node B to reach node A")

	sendRun(t, bob, annStream, "after %02d", 50, func(m string) bool {
		return strings.HasPrefix(m, "probe ") || strings.HasSuffix(m, "while down")
	})
}

func TestPublishWhileNATSIsDownIsBufferedUpToTheReconnectBufferAndFlushedToNodesThatAreBack(t *testing.T) {
	ns := startNATS(t, -1)
	port := natsPort(ns)
	ncA := connect(t, ns.ClientURL(), nats.ReconnectBufSize(4<<10))
	held := &gate{}
	ncB := connect(t, ns.ClientURL(), nats.SetCustomDialer(held))
	a := startNode(t, ncA, wsgateway.Config{})
	b := startNode(t, ncB, wsgateway.Config{})
	ann := join(t, a, "r")
	bob := join(t, b, "r")

	// A second subscriber on node A's connection sees what node A
	// publishes, as every other node would if it were connected.
	seen := make(chan wsgateway.BrokerMessage, 64)
	stop, err := natsbroker.New(ncA).Subscribe(context.Background(), "observer", func(m wsgateway.BrokerMessage) { seen <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	stopNATS(ns)
	held.shut.Store(true)
	eventually(t, reconnectDeadline, "both nodes to notice NATS is gone", func() bool {
		return !ncA.IsConnected() && !ncB.IsConnected()
	})

	// Sends go into nats.go's reconnect buffer until it is full; then
	// Send fails, and this node's members have the message all the same.
	msg := func(i int) []byte { return fmt.Appendf(nil, "%03d %s", i, strings.Repeat("x", 1000)) }
	buffered := 0
	for ; ; buffered++ {
		err := a.hub.Send(context.Background(), wsgateway.ToRoom("r"), msg(buffered))
		if err != nil {
			if !errors.Is(err, nats.ErrReconnectBufExceeded) {
				t.Fatalf("send %d: %v, want nats.ErrReconnectBufExceeded", buffered, err)
			}
			break
		}
		if buffered == 100 {
			t.Fatal("the reconnect buffer never filled up")
		}
	}
	if buffered == 0 {
		t.Fatal("nothing was buffered")
	}
	for i := range buffered + 1 {
		ann.expect(t, "ann", string(msg(i)))
	}

	// NATS is back; node A reconnects, node B is held off a while longer.
	startNATS(t, port)
	eventually(t, reconnectDeadline, "node A to reconnect", ncA.IsConnected)
	// The buffer goes out, in order; the message that did not fit never.
	if err := a.hub.Send(context.Background(), wsgateway.ToRoom("r"), []byte("after")); err != nil {
		t.Fatal(err)
	}
	for i := range buffered + 1 {
		want := string(msg(i))
		if i == buffered {
			want = "after"
		}
		select {
		case m := <-seen:
			if string(m.Data) != want || m.Node != a.hub.Node() {
				t.Fatalf("observer got %.20q from %s, want %.20q from %s", m.Data, m.Node, want, a.hub.Node())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("observer got %d of %d buffered messages", i, buffered)
		}
	}
	if err := ncA.Flush(); err != nil { // the server has handled all of it
		t.Fatal(err)
	}

	// Node B was not subscribed when the buffer went out: it missed it.
	held.shut.Store(false)
	eventually(t, reconnectDeadline, "node B to reconnect", ncB.IsConnected)
	bobStream := bob.stream(t)
	awaitProbe(t, ann, bob, bobStream, "a message from node A to reach node B")
	ann.send(t, "last")
	for {
		select {
		case m := <-bobStream:
			if m == "last" {
				return
			}
			if !strings.HasPrefix(m, "probe ") {
				t.Fatalf("bob got %.20q, published while his node was away", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("bob did not get the last message")
		}
	}
}
