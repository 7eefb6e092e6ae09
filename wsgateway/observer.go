package wsgateway

// Observer is told what happens on one Server's connections, for metrics
// (fxforge/fxmetrics implements it with Prometheus). Its methods are called
// on connection goroutines, concurrently, and must return quickly.
type Observer interface {
	// ConnOpened is called once a connection is upgraded.
	ConnOpened()
	// ConnClosed is called once per connection, with how it ended.
	ConnClosed(status CloseStatus)
	// MessageReceived is called for each data message read.
	MessageReceived()
	// MessageSent is called for each message written, batched ones counted
	// one by one.
	MessageSent()
	// MessageDropped is called for each message that was not processed or
	// not delivered, with the reason.
	MessageDropped(reason DropReason)
}

// DropReason says why a message was dropped.
type DropReason string

// Reasons a message is dropped.
const (
	// DropSlowConsumer: the peer's outbound queue was full or its write
	// stalled; the connection is closed with 1013.
	DropSlowConsumer DropReason = "slow_consumer"
	// DropRateLimited: the peer sent over Config.MessageRate.
	DropRateLimited DropReason = "rate_limited"
)
