package wsgateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// closeGrace bounds a close handshake: a peer that has not completed it by
// then is disconnected.
const closeGrace = time.Second

// MessageType is the type of a WebSocket data message.
type MessageType = websocket.MessageType

// Data message types.
const (
	MessageText   = websocket.MessageText
	MessageBinary = websocket.MessageBinary
)

// Conn is one WebSocket connection. Reads come from one goroutine at a time;
// writes are safe from any number of goroutines and never block: they are
// queued and written in order by a writer that runs only while the queue is
// non-empty. A peer that lets its queue overflow, or that does not take a
// message within the write timeout, is closed with 1013.
type Conn struct {
	ws  *websocket.Conn
	raw net.Conn // the hijacked connection under ws, to abort at once
	cfg *Config
	ctx *Context

	limiter    *rate.Limiter
	violations int // read goroutine only

	heartbeat *time.Timer
	watchdog  *time.Timer // armed while a write is on the wire

	mu       sync.Mutex
	queue    []outbound
	spare    []outbound
	writing  bool          // a writer goroutine is running
	flushed  chan struct{} // closed by the writer when the queue empties during close
	closing  bool          // no more writes are accepted
	draining bool          // no new requests; close once inflight reaches 0
	inflight int
	status   CloseStatus
	statusOK bool
	done     chan struct{} // closed when the socket has ended

	handshaking   bool          // a close handshake has started
	handshakeDone chan struct{} // closed when that handshake has finished
	endOnce       sync.Once
}

type outbound struct {
	typ  MessageType
	data []byte
}

func newConn(ws *websocket.Conn, raw net.Conn, cfg *Config) *Conn {
	c := &Conn{ws: ws, raw: raw, cfg: cfg, done: make(chan struct{}), handshakeDone: make(chan struct{})}
	if cfg.MessageRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.MessageRate), cfg.MessageBurst)
	}
	ws.SetReadLimit(cfg.ReadLimit)
	c.watchdog = time.AfterFunc(time.Hour, c.onWriteTimeout)
	c.watchdog.Stop()
	return c
}

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Read reads the next data message. Pings, pongs and close frames are
// handled inside it and never returned. A text message that is not valid
// UTF-8 closes the connection with 1007; a message over the read limit
// closes it with 1009. A message over the message rate is returned with
// ErrRateLimited, so the caller can answer it, but must not be processed;
// the connection stays open until Config.RateViolations such messages
// arrive in a row, then it is closed with 1008.
//
// Once the connection is closing, Read returns an error; Serve and the
// fxforge runtime treat that as a normal end. As in coder/websocket, a ctx
// that ends while Read waits closes the connection: pass the connection's
// Context (or a context that outlives it), not a per-message timeout.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	if ctx == c.ctx {
		// The connection context ends only after the socket is closed, so
		// there is nothing to watch; Background avoids a timer per read.
		ctx = context.Background()
	}
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.noteReadError(err)
		return 0, nil, err
	}
	if typ == MessageText && !utf8.Valid(data) {
		c.fail(StatusInvalidData, "invalid UTF-8", ErrInvalidUTF8)
		return 0, nil, ErrInvalidUTF8
	}
	if c.limiter != nil && !c.limiter.Allow() {
		c.violations++
		if c.violations >= c.cfg.RateViolations {
			c.fail(StatusPolicyViolation, "message rate exceeded", ErrRateLimited)
			return 0, nil, fmt.Errorf("%w: closed after %d messages over the rate", ErrRateLimited, c.violations)
		}
		return typ, data, ErrRateLimited
	}
	c.violations = 0
	return typ, data, nil
}

// ReadJSON reads the next data message and decodes it into v.
func (c *Conn) ReadJSON(ctx context.Context, v any) error {
	_, data, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("wsgateway: decode message: %w", err)
	}
	return nil
}

// Write queues a message of type typ. It takes ownership of p: the caller
// must not modify p afterwards. It returns ErrClosed once the connection is
// closing and ErrSlowConsumer when the peer's queue is full.
func (c *Conn) Write(typ MessageType, p []byte) error { return c.enqueue(typ, p) }

// WriteText queues a text message.
func (c *Conn) WriteText(s string) error { return c.enqueue(MessageText, []byte(s)) }

// WriteBinary queues a binary message; see Write for ownership of p.
func (c *Conn) WriteBinary(p []byte) error { return c.enqueue(MessageBinary, p) }

// WriteJSON encodes v and queues it as a text message.
func (c *Conn) WriteJSON(v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wsgateway: encode message: %w", err)
	}
	return c.enqueue(MessageText, p)
}

// Close flushes the queued messages (bounded by the write timeout), sends a
// close frame with code and reason, and waits briefly for the peer's reply.
// Later writes return ErrClosed. Closing twice is harmless.
func (c *Conn) Close(code StatusCode, reason string) error {
	return c.closeWith(code, reason, nil, false)
}

// Done returns a channel that is closed once the connection has ended:
// closed by either side, broken, or aborted. The Context is cancelled at the
// same moment.
func (c *Conn) Done() <-chan struct{} { return c.done }

func (c *Conn) enqueue(typ MessageType, p []byte) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue) >= c.cfg.OutboundQueue {
		c.mu.Unlock()
		c.fail(StatusTryAgainLater, "slow consumer", fmt.Errorf("%w: %d messages queued", ErrSlowConsumer, c.cfg.OutboundQueue))
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, outbound{typ, p})
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return nil
}

// writeLoop writes queued messages until the queue is empty, then exits.
func (c *Conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			if c.flushed != nil {
				close(c.flushed)
				c.flushed = nil
			}
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()

		var err error
		for i := range batch {
			if err == nil {
				c.watchdog.Reset(c.cfg.WriteTimeout)
				err = c.ws.Write(context.Background(), batch[i].typ, batch[i].data)
				c.watchdog.Stop()
			}
			batch[i] = outbound{}
		}

		c.mu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		if err != nil {
			// The socket is gone; nothing queued can be delivered.
			c.queue = c.queue[:0]
		}
		c.mu.Unlock()
		if err != nil {
			c.noteWriteError(err)
		}
	}
}

// onWriteTimeout closes a connection whose peer did not take a write in
// time. No close frame can reach a peer that is not reading.
func (c *Conn) onWriteTimeout() {
	c.setStatus(CloseStatus{Code: StatusTryAgainLater, Reason: "write timeout",
		Cause: fmt.Errorf("%w: a write took longer than %s", ErrSlowConsumer, c.cfg.WriteTimeout)})
	c.ctx.Logger().Warn("closing slow consumer: write timed out", zap.Duration("write_timeout", c.cfg.WriteTimeout))
	c.abort()
}

// startHeartbeat pings the peer every PingInterval with a timer, so an idle
// connection costs no goroutine between pings.
func (c *Conn) startHeartbeat() {
	if c.cfg.PingInterval < 0 {
		return
	}
	// Create stopped, then arm: the callback then sees c.heartbeat set.
	c.heartbeat = time.AfterFunc(time.Hour, c.ping)
	c.heartbeat.Stop()
	c.heartbeat.Reset(c.cfg.PingInterval)
}

func (c *Conn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PongTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	select {
	case <-c.done:
		return
	default:
	}
	if err != nil {
		c.fail(StatusPolicyViolation, "heartbeat timeout", fmt.Errorf("%w within %s", ErrHeartbeatTimeout, c.cfg.PongTimeout))
		return
	}
	c.heartbeat.Reset(c.cfg.PingInterval)
}

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
// closes it with 1001.
func (c *Conn) release() {
	c.mu.Lock()
	c.inflight--
	closeNow := c.draining && c.inflight == 0
	c.mu.Unlock()
	if closeNow {
		go c.closeWith(StatusGoingAway, "server shutting down", ErrShutdown, false)
	}
}

// drain stops new requests and closes with 1001 once the in-flight ones have
// replied.
func (c *Conn) drain() {
	c.mu.Lock()
	c.draining = true
	closeNow := c.inflight == 0
	c.mu.Unlock()
	if closeNow {
		go c.closeWith(StatusGoingAway, "server shutting down", ErrShutdown, false)
	}
}

// fail logs why the connection ends and closes it without waiting for queued
// messages. The state changes at once; the close handshake runs in the
// background so no writer is ever blocked.
func (c *Conn) fail(code StatusCode, reason string, cause error) {
	if !c.beginClose(code, reason, cause, nil) {
		return
	}
	c.ctx.Logger().Warn("closing connection", zap.Int("code", int(code)), zap.String("reason", reason), zap.Error(cause))
	go c.completeClose(code, reason, nil)
}

// closeWith closes the connection with code and reason, first flushing the
// queue unless now is set. It returns ErrClosed when a close is already
// under way.
func (c *Conn) closeWith(code StatusCode, reason string, cause error, now bool) error {
	var flushed chan struct{}
	if !now {
		flushed = make(chan struct{})
	}
	if !c.beginClose(code, reason, cause, flushed) {
		return ErrClosed
	}
	return c.completeClose(code, reason, flushed)
}

// beginClose marks the connection closing and records its status; it
// reports false when the connection is already closing. A non-nil flushed
// is closed once the queue is empty.
func (c *Conn) beginClose(code StatusCode, reason string, cause error, flushed chan struct{}) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.closing = true
	c.handshaking = true
	if !c.statusOK {
		c.status, c.statusOK = CloseStatus{Code: code, Reason: reason, Cause: cause}, true
	}
	if flushed != nil {
		if c.writing {
			c.flushed = flushed
		} else {
			close(flushed)
		}
	}
	return true
}

// completeClose waits for the queue to flush (when flushed is non-nil) and
// performs the close handshake, cutting off a peer that does not complete
// it within closeGrace.
func (c *Conn) completeClose(code StatusCode, reason string, flushed chan struct{}) error {
	defer close(c.handshakeDone)
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
		c.setStatus(CloseStatus{Code: websocket.StatusAbnormalClosure, Cause: err})
	}
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.ended()
}

func (c *Conn) noteWriteError(err error) {
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

// finish closes the socket for good and stops the timers. It returns how
// the connection ended.
func (c *Conn) finish() CloseStatus {
	c.mu.Lock()
	handshaking := c.handshaking
	c.closing = true
	c.mu.Unlock()
	if handshaking {
		<-c.handshakeDone // bounded by closeGrace
	}
	if c.heartbeat != nil {
		c.heartbeat.Stop()
	}
	c.watchdog.Stop()
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
