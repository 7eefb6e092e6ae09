package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/wsgateway"
)

// confirmTimeout bounds Subscribe's wait for the server when its context
// has no deadline.
const confirmTimeout = 10 * time.Second

// Broker is a wsgateway.Broker on a NATS connection: every hub publishes
// to one subject and subscribes to it. It is safe for concurrent use, and
// several hubs may share one Broker and one connection.
type Broker struct {
	nc      *nats.Conn
	subject string
	log     *zap.Logger
	obs     wsgateway.BrokerObserver
	err     error // a bad option, reported by Publish and Subscribe

	pendingMsgs, pendingBytes int // the subscription's limits; 0: nats.go's
}

var _ wsgateway.Broker = (*Broker)(nil)

// New returns a Broker that carries hub messages over nc, on DefaultSubject
// unless WithSubject says otherwise. The Broker does not own nc: whoever
// made it closes (or drains) it, after the hubs have stopped. Give nc the
// reconnect options that suit you (nats.MaxReconnects(-1) keeps it trying
// for ever); see the package documentation for what happens while it is
// disconnected.
func New(nc *nats.Conn, opts ...Option) *Broker {
	b := &Broker{nc: nc, subject: DefaultSubject, log: zap.NewNop(), obs: nopObserver{}}
	for _, opt := range opts {
		opt(b)
	}
	if b.err == nil { // an option's error comes first
		b.err = validSubject(b.subject)
	}
	if nc == nil {
		b.err = ErrNoConn
	}
	return b
}

// Subject returns the NATS subject the broker publishes and subscribes to.
func (b *Broker) Subject() string { return b.subject }

// Publish sends m to every subscribed hub, this process's included. A
// process without a hub (a worker, say) reaches the members on every node
// by publishing with an empty Node.
//
// Publish does not block and does not consult ctx: nats.go buffers the
// message and its connection writes it out. While the connection is
// reconnecting the message waits in nats.go's reconnect buffer
// (nats.ReconnectBufSize) and goes out after the reconnect; once that
// buffer is full, Publish fails with an error matching
// nats.ErrReconnectBufExceeded. A closed connection fails with
// nats.ErrConnectionClosed, a message over the server's limit with
// nats.ErrMaxPayload.
//
// The observer (WithObserver) counts a message Publish hands to nats.go as
// published, and one it returns an error for as dropped with
// wsgateway.BrokerPublishFailed.
func (b *Broker) Publish(_ context.Context, m wsgateway.BrokerMessage) error {
	if err := b.publish(m); err != nil {
		b.obs.Dropped(wsgateway.BrokerPublishFailed)
		return err
	}
	b.obs.Published()
	return nil
}

func (b *Broker) publish(m wsgateway.BrokerMessage) error {
	if b.err != nil {
		return b.err
	}
	msg, err := encode(b.subject, m)
	if err != nil {
		return err
	}
	if err := b.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("natsbroker: publish on %q: %w", b.subject, err)
	}
	return nil
}

// Subscribe calls deliver for every hub message published on the broker's
// subject, by any node, in the order each publishing connection sent them,
// from one goroutine (nats.go's, for this subscription). It returns once
// the NATS server has the subscription, so a message published after it
// returns is delivered; it waits at most until ctx's deadline, or ten
// seconds when ctx has none. node, the subscribing hub's id, tags the
// broker's logs.
//
// stop unsubscribes; it returns nil when the connection is already closed
// or draining, which ends the subscription as well. A message already
// handed to deliver's goroutine may still be delivered after stop returns.
//
// Messages on the subject that no Broker published are logged and dropped.
// The observer (WithObserver) counts each message handed to deliver as
// delivered, and each one dropped with wsgateway.BrokerDecodeFailed. When
// deliver falls behind the subscription's pending limits (WithPendingLimits)
// nats.go drops messages; the observer counts them, with
// wsgateway.BrokerSlowConsumer, as the next message arrives.
func (b *Broker) Subscribe(ctx context.Context, node string, deliver func(wsgateway.BrokerMessage)) (stop func() error, err error) {
	if b.err != nil {
		return nil, b.err
	}
	log := b.log.With(zap.String("subject", b.subject), zap.String("node", node))
	dropped := 0 // nats.go's drops counted so far; the callback's own
	sub, err := b.nc.Subscribe(b.subject, func(msg *nats.Msg) {
		dropped = b.countDrops(msg.Sub, dropped)
		m, err := decode(msg)
		if err != nil {
			b.obs.Dropped(wsgateway.BrokerDecodeFailed)
			log.Warn("natsbroker: dropping a message", zap.Error(err))
			return
		}
		b.obs.Delivered()
		deliver(m)
	})
	if err != nil {
		return nil, fmt.Errorf("natsbroker: subscribe to %q: %w", b.subject, err)
	}
	if b.pendingMsgs != 0 {
		if err := sub.SetPendingLimits(b.pendingMsgs, b.pendingBytes); err != nil {
			_ = sub.Unsubscribe()
			return nil, fmt.Errorf("natsbroker: subscribe to %q: set pending limits: %w", b.subject, err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, confirmTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natsbroker: subscribe to %q: the NATS server did not confirm (is it reachable?): %w", b.subject, err)
	}
	return func() error {
		err := sub.Unsubscribe()
		if err == nil || errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) ||
			errors.Is(err, nats.ErrBadSubscription) {
			return nil
		}
		return fmt.Errorf("natsbroker: unsubscribe from %q: %w", b.subject, err)
	}, nil
}

// countDrops tells the observer about the messages nats.go has dropped on
// sub since it had counted seen of them, and returns the new count.
func (b *Broker) countDrops(sub *nats.Subscription, seen int) int {
	n, err := sub.Dropped()
	if err != nil || n <= seen {
		return seen
	}
	for range n - seen {
		b.obs.Dropped(wsgateway.BrokerSlowConsumer)
	}
	return n
}
