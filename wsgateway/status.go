package wsgateway

import (
	"fmt"

	"github.com/coder/websocket"
)

// StatusCode is a WebSocket close code (RFC 6455, section 7.4).
type StatusCode = websocket.StatusCode

// Close codes fxforge sends. See docs/operations.md for when each is used.
const (
	StatusNormalClosure   = websocket.StatusNormalClosure   // 1000: the gateway returned
	StatusGoingAway       = websocket.StatusGoingAway       // 1001: the server is shutting down
	StatusPolicyViolation = websocket.StatusPolicyViolation // 1008: message rate exceeded, missed heartbeat
	StatusMessageTooBig   = websocket.StatusMessageTooBig   // 1009: a message over the read limit
	StatusInternalError   = websocket.StatusInternalError   // 1011: the gateway failed or panicked
	StatusTryAgainLater   = websocket.StatusTryAgainLater   // 1013: the peer reads too slowly
	StatusInvalidData     = websocket.StatusInvalidFramePayloadData
)

// CloseStatus says how a connection ended.
type CloseStatus struct {
	// Code is the close code sent by whichever side closed first;
	// websocket.StatusAbnormalClosure (1006) when the socket broke without
	// a close frame.
	Code StatusCode
	// Reason is the close reason that went with Code.
	Reason string
	// ByPeer is true when the peer closed first.
	ByPeer bool
	// Cause is what ended the connection: the peer's websocket.CloseError,
	// the gateway's error, ErrGatewayPanic, ErrSlowConsumer,
	// ErrHeartbeatTimeout, ErrInvalidUTF8, ErrRateLimited, ErrShutdown, or a
	// read or write error (match with errors.Is); nil after a normal return.
	Cause error
}

// String describes the status, for example "1001 (StatusGoingAway) by
// server" or "1006 (StatusAbnormalClosure): connection lost".
func (s CloseStatus) String() string {
	if s.Code == websocket.StatusAbnormalClosure {
		return fmt.Sprintf("%d (%s): connection lost", int(s.Code), s.Code)
	}
	by := "server"
	if s.ByPeer {
		by = "peer"
	}
	return fmt.Sprintf("%d (%s) by %s", int(s.Code), s.Code, by)
}
