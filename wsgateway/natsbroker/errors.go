package natsbroker

import "errors"

// Errors a Broker returns from Publish and Subscribe.
var (
	// ErrNoConn means New was given a nil *nats.Conn.
	ErrNoConn = errors.New("natsbroker: no NATS connection; pass a connected *nats.Conn to New")
	// ErrInvalidSubject means the subject set with WithSubject is not one
	// NATS can publish to.
	ErrInvalidSubject = errors.New("natsbroker: invalid subject")
	// ErrNoTarget means a message's Target is the zero wsgateway.Target.
	ErrNoTarget = errors.New("natsbroker: message has no target; build one with wsgateway.ToConn, ToRoom or ToAll")
)

// errNotHubMessage describes a message on the hub's subject that no Broker
// published; it is logged and dropped.
var errNotHubMessage = errors.New("natsbroker: not a hub message")
