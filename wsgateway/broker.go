package wsgateway

import "context"

// Broker carries Hub messages between the processes (nodes) of an app, so
// their hubs share rooms and broadcast. wsgateway/natsbroker implements it
// on NATS; without a Broker a Hub serves its own process only.
//
// A Broker delivers every message published by any node to every
// subscribed node, the publisher included (the Hub skips its own), and
// keeps the order of each publisher's messages.
type Broker interface {
	// Publish sends m to every node.
	Publish(ctx context.Context, m BrokerMessage) error
	// Subscribe makes the broker call deliver for every message any node
	// publishes, until stop is called. node is the subscribing hub's id.
	// deliver must not be called concurrently with itself.
	Subscribe(ctx context.Context, node string, deliver func(BrokerMessage)) (stop func() error, err error)
}

// BrokerMessage is one Hub message on its way between nodes.
type BrokerMessage struct {
	// Node is the id of the hub that sent it.
	Node string
	// Target says which connections get it; rebuild it on the receiving
	// side with ToConn, ToRoom or ToAll, and Except.
	Target Target
	// Type is the WebSocket message type.
	Type MessageType
	// Data is the message.
	Data []byte
}
