package wsgateway

import (
	"errors"
	"fmt"
)

// Errors a Conn reports. They are also the Cause in a CloseStatus.
var (
	// ErrClosed is returned by writes to a connection that is closing or
	// closed.
	ErrClosed = errors.New("wsgateway: connection closed")
	// ErrSlowConsumer means the peer did not keep up: its outbound queue
	// overflowed or a write timed out. The connection is closed with 1013.
	ErrSlowConsumer = errors.New("wsgateway: slow consumer: peer is not reading fast enough")
	// ErrHeartbeatTimeout means the peer did not answer a ping in time.
	ErrHeartbeatTimeout = errors.New("wsgateway: heartbeat timeout: no pong from peer")
	// ErrMessageDropped is matched (errors.Is) by Read's error for a message
	// over the connection's message rate: answer it if you like, but do not
	// process it. The connection stays open.
	ErrMessageDropped = errors.New("wsgateway: message dropped")
	// ErrRateLimited is matched by Read's error once too many messages in a
	// row were over the rate; the connection is closing with 1008.
	ErrRateLimited = errors.New("wsgateway: message rate exceeded")
	// ErrInvalidUTF8 means a text message was not valid UTF-8; the
	// connection is closed with 1007.
	ErrInvalidUTF8 = errors.New("wsgateway: text message is not valid UTF-8")
	// ErrShutdown means the server is shutting down; the connection is
	// closed with 1001.
	ErrShutdown = errors.New("wsgateway: server shutting down")
	// ErrNotInHub is returned by Hub.Join for a connection that is not
	// served with that hub (see Config.Hub).
	ErrNotInHub = errors.New("wsgateway: connection is not in this hub; set Config.Hub on its Server")
	// ErrGatewayPanic is the cause recorded when a gateway panicked.
	ErrGatewayPanic = errors.New("wsgateway: gateway panicked")
)

// errRateDropped is Read's error for one message over the rate.
var errRateDropped = fmt.Errorf("%w: over the message rate; slow down", ErrMessageDropped)
