package wsgateway

// BrokerObserver is told what a Broker does with the messages it carries,
// for metrics (fxforge/fxmetrics implements it with Prometheus). A Broker
// implementation takes one as an option (natsbroker.WithObserver) and
// accounts for every message: each one a hub hands to Publish is either
// published or dropped, and each one that arrives from another node (or
// back from this one) is either delivered or dropped. Its methods are
// called concurrently, from publishing goroutines and the broker's
// delivery goroutine, and must return quickly.
type BrokerObserver interface {
	// Published is called for each message handed to the broker's
	// transport: it is on its way to the other nodes, or waits in the
	// transport's buffer while the transport reconnects.
	Published()
	// Delivered is called for each message the broker hands to a
	// subscribed hub, once per message and hub whatever the number of
	// recipients; a hub's own messages, which it skips, count too.
	Delivered()
	// Dropped is called for each message the broker could not publish or
	// deliver, with the reason.
	Dropped(reason BrokerDropReason)
}

// BrokerDropReason says why a Broker dropped a message. The reasons are
// few, so a metric may use them as a label.
type BrokerDropReason string

// Reasons a Broker drops a message.
const (
	// BrokerPublishFailed: Publish failed (the connection is closed, its
	// reconnect buffer is full, the message is over the transport's size
	// limit); the message reached this node's members only.
	BrokerPublishFailed BrokerDropReason = "publish_failed"
	// BrokerDecodeFailed: a message on the broker's channel is not one a
	// Broker published; it is logged and dropped.
	BrokerDecodeFailed BrokerDropReason = "decode_failed"
	// BrokerSlowConsumer: the hub fell so far behind the broker's
	// subscription that the transport dropped the message before the hub
	// saw it (natsbroker.WithPendingLimits sets how far).
	BrokerSlowConsumer BrokerDropReason = "slow_consumer"
)
