package wsgateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// MessageType is the type of a WebSocket data message.
type MessageType = websocket.MessageType

// Data message types.
const (
	MessageText   = websocket.MessageText
	MessageBinary = websocket.MessageBinary
)

// Conn is one WebSocket connection. Reads come from one goroutine at a time;
// writes are safe from any number of goroutines and never block: they are
// queued and written in order, by the reader just before its next Read when
// the write was made between two reads (as in an echo loop), otherwise by a
// writer goroutine that runs only while the queue is non-empty. A peer that
// lets its queue overflow, or that does not take a message within the write
// timeout, is closed with 1013.
type Conn struct {
	ws  *websocket.Conn
	raw net.Conn // the hijacked connection under ws, to abort at once
	cfg *Config
	ctx *Context

	limiter    *rate.Limiter
	violations int // read goroutine only

	heartbeat  *time.Timer
	watchdog   *time.Timer   // armed while a writer is active; see writer.go
	progress   atomic.Uint64 // messages written, for the watchdog
	flushTimer *time.Timer   // bounds a deferred flush; see writer.go

	mu        sync.Mutex
	queue     []outbound
	spare     []outbound
	writing   bool          // a writer is running
	armed     bool          // the watchdog is armed
	seen      uint64        // progress when the watchdog last looked
	between   bool          // the reader has a message and has not called Read again
	readSeq   uint64        // Read calls so far
	deferSeq  uint64        // readSeq when flushTimer was armed
	deferring bool          // flushTimer is armed
	flushed   chan struct{} // closed by the writer when the queue empties during close
	closing   bool          // no more writes are accepted
	draining  bool          // no new requests; close once inflight reaches 0
	inflight  int
	status    CloseStatus
	statusOK  bool
	done      chan struct{} // closed when the socket has ended
	endOnce   sync.Once
	handshake bool          // a close handshake has started
	shookDone chan struct{} // closed when that handshake has finished
}

func newConn(ws *websocket.Conn, raw net.Conn, cfg *Config) *Conn {
	c := &Conn{ws: ws, raw: raw, cfg: cfg, done: make(chan struct{}), shookDone: make(chan struct{})}
	if cfg.MessageRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.MessageRate), cfg.MessageBurst)
	}
	ws.SetReadLimit(cfg.ReadLimit)
	c.watchdog = time.AfterFunc(time.Hour, c.onWatchdog)
	c.watchdog.Stop()
	c.flushTimer = time.AfterFunc(time.Hour, c.onFlushTimer)
	c.flushTimer.Stop()
	return c
}

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Read reads the next data message. Pings, pongs and close frames are
// handled inside it and never returned. A message over the read limit
// closes the connection with 1009. A text message that is not valid UTF-8
// makes Read return ErrInvalidUTF8 and the connection close with 1007 once
// the requests already accepted have replied. A message over the message
// rate is returned with ErrRateLimited, so the caller can answer it, but
// must not be processed; after Config.RateViolations such messages in a row
// Read returns an error wrapping ErrRateLimited and the connection closes
// with 1008, again after the accepted requests have replied.
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
	c.flushBeforeRead()
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.noteReadError(err)
		return 0, nil, err
	}
	c.mu.Lock()
	c.between = true
	c.mu.Unlock()
	if typ == MessageText && !utf8.Valid(data) {
		c.drain(StatusInvalidData, "invalid UTF-8", ErrInvalidUTF8)
		return 0, nil, ErrInvalidUTF8
	}
	if c.limiter != nil && !c.limiter.Allow() {
		c.violations++
		if c.violations >= c.cfg.RateViolations {
			err := fmt.Errorf("%w: %d messages in a row over the rate", ErrRateLimited, c.violations)
			c.drain(StatusPolicyViolation, "message rate exceeded", err)
			return 0, nil, err
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
func (c *Conn) Write(typ MessageType, p []byte) error { return c.enqueue(typ, p, nil) }

// WriteText queues a text message.
func (c *Conn) WriteText(s string) error { return c.enqueue(MessageText, []byte(s), nil) }

// WriteBinary queues a binary message; see Write for ownership of p.
func (c *Conn) WriteBinary(p []byte) error { return c.enqueue(MessageBinary, p, nil) }

// WriteJSON encodes v and queues it as a text message.
func (c *Conn) WriteJSON(v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wsgateway: encode message: %w", err)
	}
	return c.enqueue(MessageText, p, nil)
}

// Close flushes the queued messages (each bounded by the write timeout),
// sends a close frame with code and reason, and waits briefly for the peer's
// reply. Later writes return ErrClosed. Closing twice is harmless.
func (c *Conn) Close(code StatusCode, reason string) error {
	return c.closeWith(code, reason, nil, false)
}

// Done returns a channel that is closed once the connection has ended:
// closed by either side, broken, or aborted. The Context is cancelled at the
// same moment.
func (c *Conn) Done() <-chan struct{} { return c.done }
