package natsbroker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// subscribe subscribes b and returns what it delivers; it unsubscribes
// when the test ends.
func subscribe(t testing.TB, b *natsbroker.Broker) <-chan wsgateway.BrokerMessage {
	t.Helper()
	got := make(chan wsgateway.BrokerMessage, 16)
	stop, err := b.Subscribe(context.Background(), "test", func(m wsgateway.BrokerMessage) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return got
}

// receive returns the next delivered message.
func receive(t testing.TB, got <-chan wsgateway.BrokerMessage) wsgateway.BrokerMessage {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message delivered")
		return wsgateway.BrokerMessage{}
	}
}

func TestMessagesCrossNATSUnchanged(t *testing.T) {
	ns := startNATS(t, -1)
	b := natsbroker.New(connect(t, ns.ClientURL()))
	got := subscribe(t, b)
	for _, tc := range []struct {
		name   string
		target wsgateway.Target
		typ    wsgateway.MessageType
		data   string
	}{
		{"everyone", wsgateway.ToAll(), wsgateway.MessageText, `{"kind":"event"}`},
		{"everyone but one", wsgateway.ToAll().Except("c1"), wsgateway.MessageText, "x"},
		{"a room", wsgateway.ToRoom("lobby"), wsgateway.MessageText, "hi\nthere"},
		{"a room but the sender", wsgateway.ToRoom("lobby").Except("c2"), wsgateway.MessageText, "hi"},
		{"the room with no name", wsgateway.ToRoom(""), wsgateway.MessageText, "x"},
		{"a room named like a header", wsgateway.ToRoom(" a: b\r\nFxforge-Target: all\t"), wsgateway.MessageText, "x"},
		{"a room named with slashes and escapes", wsgateway.ToRoom("room/a%2Fb/ü"), wsgateway.MessageText, "x"},
		{"a room named in invalid UTF-8", wsgateway.ToRoom("\xff\xfe"), wsgateway.MessageText, "x"},
		{"one connection", wsgateway.ToConn("C7"), wsgateway.MessageText, "psst"},
		{"binary", wsgateway.ToRoom("r"), wsgateway.MessageBinary, "\x00\x01\r\n"},
		{"empty", wsgateway.ToRoom("r"), wsgateway.MessageText, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := wsgateway.BrokerMessage{Node: "node/1", Target: tc.target, Type: tc.typ, Data: []byte(tc.data)}
			if err := b.Publish(context.Background(), sent); err != nil {
				t.Fatal(err)
			}
			m := receive(t, got)
			if m.Node != sent.Node || m.Target != sent.Target || m.Type != sent.Type || string(m.Data) != tc.data {
				t.Fatalf("got %+v, want %+v", m, sent)
			}
		})
	}
}

func FuzzRoomNamesCrossNATSUnchanged(f *testing.F) {
	ns := startNATS(f, -1)
	b := natsbroker.New(connect(f, ns.ClientURL()))
	got := subscribe(f, b)
	for _, seed := range []string{"lobby", "", " x ", "a\r\nb", "%zz", "room/", "ü"} {
		f.Add(seed, "conn-1")
	}
	f.Fuzz(func(t *testing.T, room, except string) {
		target := wsgateway.ToRoom(room).Except(except)
		if err := b.Publish(context.Background(), wsgateway.BrokerMessage{Node: "n", Target: target, Type: wsgateway.MessageText}); err != nil {
			t.Fatal(err)
		}
		if m := receive(t, got); m.Target != target {
			t.Fatalf("room %q except %q came back as room %q except %q", room, except, m.Target.Room(), m.Target.ExceptConn())
		}
	})
}

func TestOtherMessagesOnTheSubjectAreLoggedAndDropped(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns.ClientURL())
	core, logs := observer.New(zap.WarnLevel)
	b := natsbroker.New(nc, natsbroker.WithLogger(zap.New(core)))
	got := subscribe(t, b)

	foreign := []*nats.Msg{
		{Subject: b.Subject(), Data: []byte("no headers")},
		{Subject: b.Subject(), Header: nats.Header{"Fxforge-Node": {"n"}, "Fxforge-Target": {"everyone"}, "Fxforge-Type": {"text"}}},
		{Subject: b.Subject(), Header: nats.Header{"Fxforge-Node": {"n"}, "Fxforge-Target": {"room/%zz"}, "Fxforge-Type": {"text"}}},
		{Subject: b.Subject(), Header: nats.Header{"Fxforge-Node": {"n"}, "Fxforge-Target": {"all"}, "Fxforge-Type": {"jpeg"}}},
	}
	for _, msg := range foreign {
		if err := nc.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	ok := wsgateway.BrokerMessage{Node: "n", Target: wsgateway.ToAll(), Type: wsgateway.MessageText, Data: []byte("ok")}
	if err := b.Publish(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, got); string(m.Data) != "ok" {
		t.Fatalf("delivered %q, want only the hub message", m.Data)
	}
	if n := logs.FilterMessage("natsbroker: dropping a message").Len(); n != len(foreign) {
		t.Fatalf("%d messages logged as dropped, want %d: %v", n, len(foreign), logs.All())
	}
}

func TestBadConfigurationAndBadMessagesGetTypedErrors(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns.ClientURL())
	ctx := context.Background()
	msg := wsgateway.BrokerMessage{Node: "n", Target: wsgateway.ToAll(), Type: wsgateway.MessageText}

	for _, subject := range []string{"", "fx hub", "fx..hub", ".fx", "fx.", "fx.*", "fx.>", ">"} {
		b := natsbroker.New(nc, natsbroker.WithSubject(subject))
		if _, err := b.Subscribe(ctx, "n", func(wsgateway.BrokerMessage) {}); !errors.Is(err, natsbroker.ErrInvalidSubject) {
			t.Errorf("subscribe on %q: %v, want ErrInvalidSubject", subject, err)
		}
		if err := b.Publish(ctx, msg); !errors.Is(err, natsbroker.ErrInvalidSubject) {
			t.Errorf("publish on %q: %v, want ErrInvalidSubject", subject, err)
		}
	}
	hub := wsgateway.NewHub(wsgateway.HubConfig{Broker: natsbroker.New(nc, natsbroker.WithSubject("fx.*"))})
	if err := hub.Start(ctx); !errors.Is(err, natsbroker.ErrInvalidSubject) {
		t.Errorf("hub start: %v, want ErrInvalidSubject", err)
	}

	if _, err := natsbroker.New(nil).Subscribe(ctx, "n", func(wsgateway.BrokerMessage) {}); !errors.Is(err, natsbroker.ErrNoConn) {
		t.Errorf("subscribe without a connection: %v, want ErrNoConn", err)
	}

	b := natsbroker.New(nc)
	if err := b.Publish(ctx, wsgateway.BrokerMessage{Node: "n", Type: wsgateway.MessageText}); !errors.Is(err, natsbroker.ErrNoTarget) {
		t.Errorf("publish without a target: %v, want ErrNoTarget", err)
	}
	if err := b.Publish(ctx, wsgateway.BrokerMessage{Node: "n", Target: wsgateway.ToAll()}); err == nil {
		t.Error("publish without a message type: no error")
	}
	big := msg
	big.Data = make([]byte, nc.MaxPayload()+1)
	if err := b.Publish(ctx, big); !errors.Is(err, nats.ErrMaxPayload) {
		t.Errorf("publish over the server's limit: %v, want nats.ErrMaxPayload", err)
	}
}

func TestStopUnsubscribesAndIsHarmlessOnceTheConnectionIsClosed(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns.ClientURL())
	b := natsbroker.New(nc)
	stop, err := b.Subscribe(context.Background(), "n", func(wsgateway.BrokerMessage) {})
	if err != nil {
		t.Fatal(err)
	}
	if n := nc.NumSubscriptions(); n != 1 {
		t.Fatalf("%d subscriptions, want 1", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := nc.NumSubscriptions(); n != 0 {
		t.Fatalf("%d subscriptions after stop, want 0", n)
	}
	if err := stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	stop, err = b.Subscribe(context.Background(), "n", func(wsgateway.BrokerMessage) {})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := stop(); err != nil {
		t.Fatalf("stop after the connection closed: %v", err)
	}
}

func TestSubscribeFailsWhenNATSDoesNotConfirmInTime(t *testing.T) {
	ns := startNATS(t, -1)
	nc := connect(t, ns.ClientURL())
	stopNATS(ns)
	eventually(t, reconnectDeadline, "the connection to notice NATS is gone", func() bool { return !nc.IsConnected() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := natsbroker.New(nc).Subscribe(ctx, "n", func(wsgateway.BrokerMessage) {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("subscribe while NATS is down: %v, want context.DeadlineExceeded", err)
	}
	if n := nc.NumSubscriptions(); n != 0 {
		t.Fatalf("%d subscriptions left behind", n)
	}
}
