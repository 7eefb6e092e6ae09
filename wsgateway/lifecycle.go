package wsgateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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
//   - closeWith: flush the queue, then the close handshake. The gateway
//     returning ends the connection like this.
//   - fail: the close handshake without flushing (queue overflow,
//     heartbeat timeout), in the background so no caller blocks.
//
// Every handshake is bounded by closeGrace, and abort cuts the raw socket
// at once, which also ends a handshake in progress: coder/websocket cannot
// cut its own close handshake short.

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
		go c.closeWith(StatusGoingAway, "", nil, false)
	}
}

// drain stops new requests and closes with code once the in-flight ones
// have replied. The status is recorded at once.
func (c *Conn) drain(code StatusCode, reason string, cause error) {
	c.mu.Lock()
	if !c.statusOK {
		c.status, c.statusOK = CloseStatus{Code: code, Reason: reason, Cause: cause}, true
	}
	already := c.draining
	c.draining = true
	closeNow := !already && c.inflight == 0
	c.mu.Unlock()
	if closeNow {
		go c.closeWith(code, reason, cause, false)
	}
}

// fail logs why the connection ends and closes it without waiting for queued
// messages. The state changes at once; the close handshake runs in the
// background so no writer is ever blocked.
func (c *Conn) fail(code StatusCode, reason string, cause error) {
	code, reason, ok := c.beginClose(code, reason, cause, nil)
	if !ok {
		return
	}
	c.ctx.Logger().Warn("closing connection", zap.Int("code", int(code)), zap.String("reason", reason), zap.Error(cause))
	go c.completeClose(code, reason, nil)
}

// closeWith closes the connection, first flushing the queue unless now is
// set. A status recorded earlier (by drain, or the peer) wins over code and
// reason. It returns ErrClosed when a close is already under way.
func (c *Conn) closeWith(code StatusCode, reason string, cause error, now bool) error {
	var flushed chan struct{}
	if !now {
		flushed = make(chan struct{})
	}
	code, reason, ok := c.beginClose(code, reason, cause, flushed)
	if !ok {
		return ErrClosed
	}
	return c.completeClose(code, reason, flushed)
}

// beginClose marks the connection closing and records its status, then
// returns the code and reason to send; ok is false when the connection is
// already closing. A non-nil flushed is closed once the queue is empty.
func (c *Conn) beginClose(code StatusCode, reason string, cause error, flushed chan struct{}) (StatusCode, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return 0, "", false
	}
	c.closing = true
	c.handshake = true
	if !c.statusOK {
		c.status, c.statusOK = CloseStatus{Code: code, Reason: reason, Cause: cause}, true
	}
	if flushed != nil {
		if !c.writing && len(c.queue) > 0 {
			// Messages deferred for the reader: flush them now.
			c.startWriting()
			go c.writeLoop()
		}
		if c.writing {
			c.flushed = flushed
		} else {
			close(flushed)
		}
	}
	return c.status.Code, c.status.Reason, true
}

// completeClose waits for the queue to flush (when flushed is non-nil) and
// performs the close handshake, cutting off a peer that does not complete
// it within closeGrace.
func (c *Conn) completeClose(code StatusCode, reason string, flushed chan struct{}) error {
	defer close(c.shookDone)
	if flushed != nil {
		// The watchdog aborts the socket if a write stalls, so this ends.
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
	c.mu.Lock()
	c.closing = true
	if !c.statusOK {
		c.status, c.statusOK = CloseStatus{Code: StatusGoingAway, Reason: "server shutting down", Cause: ErrShutdown}, true
	}
	c.mu.Unlock()
	c.abort()
}

// setStatus records how the connection ends, unless that is already known.
func (c *Conn) setStatus(s CloseStatus) {
	c.mu.Lock()
	if !c.statusOK {
		c.status, c.statusOK = s, true
	}
	c.mu.Unlock()
}

// noteReadError records a failed read. coder/websocket closes the
// connection on every read error, so the connection has ended.
func (c *Conn) noteReadError(err error) {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		c.setStatus(CloseStatus{Code: ce.Code, Reason: ce.Reason, ByPeer: true, Cause: err})
	case errors.Is(err, websocket.ErrMessageTooBig):
		c.setStatus(CloseStatus{Code: StatusMessageTooBig, Reason: "message too big", Cause: err})
	default:
		if reason, ok := protocolError(err); ok {
			c.setStatus(CloseStatus{Code: websocket.StatusProtocolError, Reason: reason, Cause: err})
		} else {
			c.setStatus(CloseStatus{Code: websocket.StatusAbnormalClosure, Cause: err})
		}
	}
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.ended()
}

// protocolErrors are the framing errors that coder/websocket (v1.8.15)
// answers with a 1002 close frame whose reason is the error's text. It
// reports them as plain errors, so they are recognised by that text; the
// hostile-client tests pin it.
var protocolErrors = []string{
	"received header with unexpected rsv bits",
	"received unknown opcode",
	"received control frame payload with invalid length",
	"received fragmented control frame",
	"received invalid close payload",
	"received continuation frame without",
	"received new data message without finishing",
}

// protocolError reports whether err is a framing error that was answered
// with 1002, and the reason that was sent.
func protocolError(err error) (reason string, ok bool) {
	msg := err.Error()
	for _, p := range protocolErrors {
		if i := strings.Index(msg, p); i >= 0 {
			return msg[i:], true
		}
	}
	return "", false
}

func (c *Conn) noteWriteError(err error) {
	c.setStatus(CloseStatus{Code: websocket.StatusAbnormalClosure, Cause: fmt.Errorf("write failed: %w", err)})
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
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

// finish closes the socket for good and stops the timers. It returns how
// the connection ended.
func (c *Conn) finish() CloseStatus {
	c.mu.Lock()
	handshake := c.handshake
	c.closing = true
	c.mu.Unlock()
	if handshake {
		<-c.shookDone // bounded by closeGrace
	}
	if c.heartbeat != nil {
		c.heartbeat.Stop()
	}
	c.watchdog.Stop()
	c.flushTimer.Stop()
	c.abort()
	c.mu.Lock()
	if !c.statusOK {
		c.status, c.statusOK = CloseStatus{Code: StatusNormalClosure}, true
	}
	s := c.status
	c.mu.Unlock()
	return s
}

// isNormalEnd reports whether err only says the connection is closed.
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
	return c.closing || c.statusOK
}
