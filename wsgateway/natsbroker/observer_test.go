package natsbroker_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// counts is a wsgateway.BrokerObserver that counts what it is told.
type counts struct {
	mu                   sync.Mutex
	published, delivered int
	dropped              map[wsgateway.BrokerDropReason]int
}

func (c *counts) Published() { c.mu.Lock(); c.published++; c.mu.Unlock() }
func (c *counts) Delivered() { c.mu.Lock(); c.delivered++; c.mu.Unlock() }
func (c *counts) Dropped(r wsgateway.BrokerDropReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped == nil {
		c.dropped = map[wsgateway.BrokerDropReason]int{}
	}
	c.dropped[r]++
}

// snapshot is what a counts has been told so far.
type snapshot struct {
	published, delivered, publishFailed, decodeFailed, slowConsumer, otherDrops int
}

func (c *counts) snapshot() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := snapshot{published: c.published, delivered: c.delivered}
	for r, n := range c.dropped {
		switch r {
		case wsgateway.BrokerPublishFailed:
			s.publishFailed = n
		case wsgateway.BrokerDecodeFailed:
			s.decodeFailed = n
		case wsgateway.BrokerSlowConsumer:
			s.slowConsumer = n
		default:
			s.otherDrops += n
		}
	}
	return s
}

// awaitCounts waits until obs has been told exactly want, and fails with
// what it was told if that takes too long. (A publisher's counts may lag
// the delivery of its message a little: the message can reach the other
// nodes before Publish returns.)
func awaitCounts(t *testing.T, who string, obs *counts, want snapshot) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := obs.snapshot()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s observer: %+v, want %+v", who, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserverCountsEachMessageOncePublishedAndOncePerNodeDelivered(t *testing.T) {
	ns := startNATS(t, -1)
	obsA, obsB := &counts{}, &counts{}
	a := startNode(t, connect(t, ns.ClientURL()), wsgateway.Config{}, natsbroker.WithObserver(obsA))
	b := startNode(t, connect(t, ns.ClientURL()), wsgateway.Config{}, natsbroker.WithObserver(obsB))
	ann := join(t, a, "lobby")
	amy := join(t, a, "lobby")
	bob := join(t, b, "lobby")
	ben := join(t, b, "lobby")

	// One room message, two members on node B: published once by node A,
	// delivered once to each node's hub (node A's own copy, which its hub
	// skips, included).
	ann.send(t, "hello")
	for name, c := range map[string]*client{"amy": amy, "bob": bob, "ben": ben} {
		c.expect(t, name, "hello")
	}
	awaitCounts(t, "node B", obsB, snapshot{delivered: 1})
	awaitCounts(t, "node A", obsA, snapshot{published: 1, delivered: 1})

	// A message to a connection of the sender's own node never goes to
	// the broker.
	ann.send(t, "to "+amy.id+" psst")
	amy.expect(t, "amy", "psst")
	// One to a connection on the other node does.
	ann.send(t, "to "+bob.id+" hey bob")
	bob.expect(t, "bob", "hey bob")
	awaitCounts(t, "node B", obsB, snapshot{delivered: 2})
	awaitCounts(t, "node A", obsA, snapshot{published: 2, delivered: 2})
}

func TestObserverCountsAFailedPublishAsDropped(t *testing.T) {
	ns := startNATS(t, -1)
	room := wsgateway.ToRoom("lobby")
	tests := []struct {
		name    string
		prepare func(nc *nats.Conn)
		msg     wsgateway.BrokerMessage
		want    error
	}{
		{"on a closed connection", (*nats.Conn).Close,
			wsgateway.BrokerMessage{Target: room, Type: wsgateway.MessageText, Data: []byte("hi")}, nats.ErrConnectionClosed},
		{"over the server's max_payload", func(*nats.Conn) {},
			wsgateway.BrokerMessage{Target: room, Type: wsgateway.MessageBinary, Data: bytes.Repeat([]byte("x"), 2<<20)}, nats.ErrMaxPayload},
		{"without a target", func(*nats.Conn) {},
			wsgateway.BrokerMessage{Type: wsgateway.MessageText, Data: []byte("hi")}, natsbroker.ErrNoTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := connect(t, ns.ClientURL())
			obs := &counts{}
			b := natsbroker.New(nc, natsbroker.WithObserver(obs))
			tt.prepare(nc)
			if err := b.Publish(context.Background(), tt.msg); !errors.Is(err, tt.want) {
				t.Fatalf("Publish: %v, want %v", err, tt.want)
			}
			awaitCounts(t, "the", obs, snapshot{publishFailed: 1})
		})
	}
}

func TestObserverCountsAMessageThatIsNotAHubMessageAsDropped(t *testing.T) {
	ns := startNATS(t, -1)
	obs := &counts{}
	b := natsbroker.New(connect(t, ns.ClientURL()), natsbroker.WithObserver(obs))
	got := make(chan wsgateway.BrokerMessage, 1)
	stop, err := b.Subscribe(context.Background(), "n1", func(m wsgateway.BrokerMessage) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// Someone publishes by hand on the hubs' subject, then a Broker does,
	// on the same connection: the hub message comes second.
	raw := connect(t, ns.ClientURL())
	if err := raw.Publish(natsbroker.DefaultSubject, []byte("not a hub message")); err != nil {
		t.Fatal(err)
	}
	hub := wsgateway.BrokerMessage{Node: "n2", Target: wsgateway.ToAll(), Type: wsgateway.MessageText, Data: []byte("hi")}
	if err := natsbroker.New(raw).Publish(context.Background(), hub); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Data) != "hi" {
			t.Fatalf("delivered %q, want the hub message", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub message was not delivered")
	}
	awaitCounts(t, "the", obs, snapshot{delivered: 1, decodeFailed: 1})
}

func TestWithObserverNilCountsNothing(t *testing.T) {
	ns := startNATS(t, -1)
	b := natsbroker.New(connect(t, ns.ClientURL()), natsbroker.WithObserver(nil))
	m := wsgateway.BrokerMessage{Target: wsgateway.ToAll(), Type: wsgateway.MessageText, Data: []byte("hi")}
	if err := b.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), wsgateway.BrokerMessage{}); !errors.Is(err, natsbroker.ErrNoTarget) {
		t.Fatalf("Publish without a target: %v, want ErrNoTarget", err)
	}
}

func TestObserverCountsMessagesDroppedWhileTheHubIsBehindAsSlowConsumer(t *testing.T) {
	ns := startNATS(t, -1)
	obs := &counts{}
	subConn := connect(t, ns.ClientURL())
	// nats.go holds at most 4 messages for the subscription while its
	// handler is busy, and drops the rest.
	b := natsbroker.New(subConn, natsbroker.WithObserver(obs), natsbroker.WithPendingLimits(4, -1))
	release := make(chan struct{})
	stop, err := b.Subscribe(context.Background(), "n1", func(wsgateway.BrokerMessage) {
		<-release // the hub is busy until the test lets it go
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	pub := connect(t, ns.ClientURL())
	m := wsgateway.BrokerMessage{Node: "n2", Target: wsgateway.ToAll(), Type: wsgateway.MessageText, Data: []byte("hi")}
	const sent = 40
	for range sent {
		if err := natsbroker.New(pub).Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	// The server sends the subscriber all 40 before the reply to this
	// ping, so by then nats.go has held or dropped each of them.
	if err := subConn.Flush(); err != nil {
		t.Fatal(err)
	}
	close(release)

	// Each message counts once: delivered, or dropped as a slow consumer
	// (counted as the next one arrives, so before the last delivery).
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := obs.snapshot()
		if got.delivered+got.slowConsumer == sent && got.slowConsumer > 0 && got.otherDrops == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("observer: %+v, want %d messages delivered or dropped as slow_consumer, some dropped", got, sent)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWithPendingLimitsOfZeroIsAnError(t *testing.T) {
	ns := startNATS(t, -1)
	b := natsbroker.New(connect(t, ns.ClientURL()), natsbroker.WithPendingLimits(0, -1))
	_, err := b.Subscribe(context.Background(), "n1", func(wsgateway.BrokerMessage) {})
	if err == nil || !strings.Contains(err.Error(), "WithPendingLimits(0, -1)") {
		t.Fatalf("Subscribe: %v, want the WithPendingLimits error", err)
	}
}
