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

// Conn is one WebSocket connection. Reads come from one goroutine at a time
// (the gateway's); writes are safe from any number of goroutines.
//
// A write goes on the wire at once: when no other write is in progress the
// writing goroutine writes it itself, otherwise it joins the connection's
// bounded queue, which a writer goroutine drains while it is non-empty.
// Order per connection is kept. A peer whose queue overflows, or whose
// write stalls for Config.WriteTimeout, is closed with 1013; see writer.go.
type Conn struct {
	ws  *websocket.Conn
	raw net.Conn // the hijacked connection under ws, to cut it at once
	cfg *Config
	ctx *Context

	limiter    *rate.Limiter
	violations int // the reading goroutine only

	heartbeat    *time.Timer // pings, then bounds the wait for the pong
	awaitingPong atomic.Bool // a ping is unanswered
	stall        stallWatch  // cuts the socket when a write stalls

	mu       sync.Mutex
	queue    []outbound    // messages waiting for the writer
	writing  bool          // a goroutine holds the writer role
	flushed  chan struct{} // closed when the writer role is given up; set by a flushing close
	closing  bool          // no more writes are accepted
	draining bool          // no new requests; close once inflight is 0
	inflight int
	status   CloseStatus
	hasCode  bool          // status is decided
	batching bool          // the peer asked for newline-joined batches
	done     chan struct{} // closed when the socket has ended
	closed   chan struct{} // closed when a close handshake has finished
	endOnce  sync.Once
}

func newConn(ws *websocket.Conn, raw net.Conn, cfg *Config) *Conn {
	c := &Conn{ws: ws, raw: raw, cfg: cfg, done: make(chan struct{})}
	if cfg.MessageRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.MessageRate), cfg.MessageBurst)
	}
	c.batching = ws.Subprotocol() == SubprotocolBatch
	ws.SetReadLimit(cfg.ReadLimit)
	c.stall.init(cfg.WriteTimeout, c.onStall)
	return c
}

// newTimer returns a stopped timer that runs f when it fires.
func (c *Conn) newTimer(f func()) *time.Timer {
	t := time.AfterFunc(time.Hour, f)
	t.Stop()
	return t
}

// ID returns the connection's id, made by the server and unique across
// servers; clients cannot choose it (unlike the request id).
func (c *Conn) ID() string { return c.ctx.connID }

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Context returns the connection's Context.
func (c *Conn) Context() *Context { return c.ctx }

// Read reads the next data message. Pings, pongs and close frames are
// handled inside it and never returned. A message over the read limit
// closes the connection with 1009. A text message that is not valid UTF-8
// makes Read return ErrInvalidUTF8 and the connection close with 1007 once
// the requests already accepted have replied.
//
// A message over Config.MessageRate is returned with an error wrapping
// ErrMessageDropped, so the caller can answer it, but must not process it;
// the connection stays open. After Config.RateViolations such messages in a
// row, Read returns an error wrapping ErrRateLimited instead and the
// connection closes with 1008, again after the accepted requests have
// replied.
//
// Once the connection is closing, Read returns an error; Serve and the
// Server treat that as a normal end. As in coder/websocket, a ctx that ends
// while Read waits closes the connection: pass the connection's Context (or
// a context that outlives it), not a per-message timeout.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	if ctx == c.ctx {
		// The connection's context ends only once the socket is closed, so
		// there is nothing for coder/websocket to watch.
		ctx = context.Background()
	}
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		c.readFailed(err)
		return 0, nil, err
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer.MessageReceived()
	}
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
		if c.cfg.Observer != nil {
			c.cfg.Observer.MessageDropped(DropRateLimited)
		}
		return typ, data, errRateDropped
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

// Write sends a message of type typ; see Conn for how. It takes ownership
// of p: the caller must not modify p afterwards. It returns ErrClosed once
// the connection is closing and ErrSlowConsumer when the peer's queue is
// full (the connection is then closed with 1013).
func (c *Conn) Write(typ MessageType, p []byte) error { return c.write(typ, p, true) }

// WriteText sends a text message.
func (c *Conn) WriteText(s string) error { return c.write(MessageText, []byte(s), true) }

// WriteBinary sends a binary message; see Write for ownership of p.
func (c *Conn) WriteBinary(p []byte) error { return c.write(MessageBinary, p, true) }

// WriteJSON encodes v and sends it as a text message.
func (c *Conn) WriteJSON(v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("wsgateway: encode message: %w", err)
	}
	return c.write(MessageText, p, true)
}

// Close sends what is queued (each write bounded by the write timeout),
// then a close frame with code and reason, and waits briefly for the peer's
// reply. Later writes return ErrClosed. Closing twice is harmless.
func (c *Conn) Close(code StatusCode, reason string) error {
	return c.closeWith(code, reason, nil, true)
}

// Done returns a channel that is closed once the connection has ended:
// closed by either side, broken, or cut. The Context is cancelled at the
// same moment.
func (c *Conn) Done() <-chan struct{} { return c.done }
