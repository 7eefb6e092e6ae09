package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// closeGrace bounds a close handshake: a peer that has not completed it by
// then is disconnected.
const closeGrace = time.Second

// How a connection ends
//
// A connection is open, then closing (no more writes or requests), then
// ended (the socket is gone: Done is closed and the Context cancelled).
// There are three ways to close:
//
//   - drain: stop taking requests, let the in-flight ones reply, then close
//     the usual way. Shutdown (1001), invalid UTF-8 (1007) and the message
//     rate (1008) close like this, so no accepted request loses its reply.
//   - closeWith: send what is queued (unless told not to), then the close
//     handshake, bounded by closeGrace.
//   - fail: closeWith without sending the queue, in the background so no
//     caller blocks (queue overflow, heartbeat timeout).
//
// abort cuts the raw socket at once; it also ends a close handshake in
// progress, which coder/websocket cannot cut short by itself.

// acquire registers an in-flight request; it fails once the connection
// drains or closes.
func (c *Conn) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining || c.closing {
		return false
	}
	c.inflight++
	return true
}

// release ends an in-flight request; the last one of a draining connection
// closes it.
func (c *Conn) release() {
	c.mu.Lock()
	c.inflight--
	closeNow := c.draining && c.inflight == 0
	c.mu.Unlock()
	if closeNow {
		go c.closeWith(StatusGoingAway, "", nil, true)
	}
}

// drain stops new requests and closes with code once the in-flight ones
// have replied. The status is decided at once.
func (c *Conn) drain(code StatusCode, reason string, cause error) {
	c.mu.Lock()
	c.decide(CloseStatus{Code: code, Reason: reason, Cause: cause})
	closeNow := !c.draining && c.inflight == 0
	c.draining = true
	c.mu.Unlock()
	if closeNow {
		go c.closeWith(code, reason, cause, true)
	}
}

// fail logs why the connection ends and closes it without sending what is
// queued, in the background.
func (c *Conn) fail(code StatusCode, reason string, cause error) {
	c.mu.Lock()
	already := c.closing
	c.decide(CloseStatus{Code: code, Reason: reason, Cause: cause})
	c.mu.Unlock()
	if already {
		return
	}
	c.ctx.Logger().Warn("closing connection", zap.Int("code", int(code)), zap.String("reason", reason), zap.Error(cause))
	go c.closeWith(code, reason, cause, false)
}

// closeWith closes the connection, first sending what is queued when flush
// is set. A status decided earlier (by drain, fail or the peer) wins over
// code and reason. It returns ErrClosed when a close is already under way.
func (c *Conn) closeWith(code StatusCode, reason string, cause error, flush bool) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closing = true
	c.closed = make(chan struct{})
	defer close(c.closed)
	c.decide(CloseStatus{Code: code, Reason: reason, Cause: cause})
	code, reason = c.status.Code, c.status.Reason
	var flushed chan struct{}
	if !flush {
		markSent(c.queue)
		c.queue = nil
	} else if c.writing {
		c.flushed = make(chan struct{})
		flushed = c.flushed
	}
	c.mu.Unlock()

	if flushed != nil {
		// The stall watchdog cuts the socket if a write hangs, so this ends.
		select {
		case <-flushed:
		case <-c.done:
		}
	}
	t := time.AfterFunc(closeGrace, c.abort)
	err := c.ws.Close(code, reason)
	t.Stop()
	c.ended()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// forceClose ends the connection at once, even in the middle of a close
// handshake, which cancels the context so handlers stop.
func (c *Conn) forceClose() {
	c.setStatus(CloseStatus{Code: StatusGoingAway, Reason: "server shutting down", Cause: ErrShutdown})
	c.abort()
}

// decide records how the connection ends unless that is decided already;
// c.mu is held.
func (c *Conn) decide(s CloseStatus) {
	if !c.hasCode {
		c.status, c.hasCode = s, true
	}
}

// setStatus records how the connection ends, unless that is decided
// already, and stops further writes.
func (c *Conn) setStatus(s CloseStatus) {
	c.mu.Lock()
	c.decide(s)
	c.closing = true
	c.mu.Unlock()
}

// readFailed records why a read failed. coder/websocket ends the
// connection on every read error.
func (c *Conn) readFailed(err error) {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		c.setStatus(CloseStatus{Code: ce.Code, Reason: ce.Reason, ByPeer: true, Cause: err})
	case errors.Is(err, websocket.ErrMessageTooBig):
		c.setStatus(CloseStatus{Code: StatusMessageTooBig, Reason: "message too big", Cause: err})
	case isIOError(err):
		c.setStatus(CloseStatus{Code: websocket.StatusAbnormalClosure, Cause: err})
	default:
		// Not the peer's close, not the socket: coder/websocket refused a
		// frame that breaks RFC 6455, and answers those with 1002.
		c.setStatus(CloseStatus{Code: websocket.StatusProtocolError, Reason: "protocol error", Cause: err})
	}
	c.ended()
}

// isIOError reports whether err comes from the socket or a context rather
// than from the WebSocket protocol.
func isIOError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// writeFailed records a failed write: the socket is gone.
func (c *Conn) writeFailed(err error) {
	c.setStatus(CloseStatus{Code: websocket.StatusAbnormalClosure, Cause: fmt.Errorf("write failed: %w", err)})
	c.abort()
}

// abort closes the raw connection: every read and write on it fails at
// once, and so does a close handshake in progress.
func (c *Conn) abort() {
	if c.raw != nil {
		_ = c.raw.Close()
	}
	_ = c.ws.CloseNow()
	c.ended()
}

// ended marks the socket gone: Done is closed and the connection's context
// is cancelled, so handlers still running for it stop.
func (c *Conn) ended() {
	c.endOnce.Do(func() {
		close(c.done)
		if c.ctx != nil {
			c.ctx.cancel()
		}
	})
}

// finish closes the socket for good once the gateway has returned and
// stops the timers. It returns how the connection ended.
func (c *Conn) finish() CloseStatus {
	c.mu.Lock()
	c.closing = true
	closed := c.closed
	c.mu.Unlock()
	if closed != nil {
		<-closed // bounded by closeGrace
	}
	if c.heartbeat != nil {
		c.heartbeat.Stop()
	}
	c.stall.stop()
	c.abort()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.decide(CloseStatus{Code: StatusNormalClosure})
	return c.status
}

// isNormalEnd reports whether err only says that the connection is closed.
func (c *Conn) isNormalEnd(err error) bool {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, ErrClosed) {
		return true
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.hasCode
}
