package wsgateway

import (
	"sync"
	"time"

	"github.com/fxforge/fxforge/msregistry"
)

// Transport is the transport name registry handlers see for frames that
// arrive over a WebSocket.
const Transport = "websocket"

// replyHeadroom is what a reply frame adds around its payload, so the reply
// buffer is allocated once.
const replyHeadroom = 128

// handoffAfter is how long a frame may be handled on the reader's goroutine
// before another goroutine takes over reading.
const handoffAfter = 100 * time.Microsecond

// spawnAfterHandoff is how many frames get a goroutine each after a slow
// inline handler, before inline handling is tried again.
const spawnAfterHandoff = 64

// HandleMessage feeds one WebSocket message into reg and returns the reply
// frame, or nil for an event. It is the building block of Serve, for
// gateways that run their own read loop.
func HandleMessage(ctx *Context, reg *msregistry.Registry, data []byte) []byte {
	reply, ok := reg.HandleFrame(ctx, Transport, data, make([]byte, 0, len(data)+replyHeadroom))
	if !ok {
		return nil
	}
	return reply
}

// Serve reads frames from conn and dispatches them to reg until the
// connection ends, writing each reply in the frame type of its request.
// Frames of one connection are handled concurrently, up to
// Config.MaxConcurrency at once; a request holds its place until its reply
// is written, so when that many are in progress Serve stops reading, which
// pushes back on the peer instead of queueing without bound. Every reply
// carries its request's id. A frame that arrives while the server shuts
// down, or over the message rate, is answered with an error frame. Serve
// returns nil when the connection closes normally, after its in-flight
// requests have replied.
func Serve(ctx *Context, conn *Conn, reg *msregistry.Registry) error {
	s := &serving{ctx: ctx, conn: conn, reg: reg,
		sem: make(chan struct{}, conn.cfg.MaxConcurrency), resume: make(chan struct{}, 1), end: make(chan struct{})}
	s.sequence = cap(s.sem) == 1
	s.done = func() {
		<-s.sem
		conn.release()
		s.wg.Done()
	}
	defer s.wg.Wait()
	if s.run(true) {
		return s.err
	}
	for { // another goroutine reads; take the role back when it is offered
		select {
		case <-s.end:
			return s.err
		case <-s.resume:
			if s.run(true) {
				return s.err
			}
		}
	}
}

// serving is one Serve call.
//
// Most frames are handled on the reader's goroutine: a frame that arrives
// while no other request of the connection is in progress is dispatched
// inline, which saves a goroutine and a cross-thread wake-up per request. If
// that handler is still running after handoffAfter, a timer's goroutine
// takes over reading, so pipelined frames are not held up by a slow handler;
// it gives the reader role back to Serve's own goroutine as soon as that one
// is free. Until the next frame arrives that goroutine waits in Read, so
// after a handoff the next spawnAfterHandoff frames get a goroutine each:
// connections with slow handlers work as if every frame had its own
// goroutine and almost never sit idle with two. Frames that arrive while
// others are in progress get a goroutine each.
type serving struct {
	ctx  *Context
	conn *Conn
	reg  *msregistry.Registry
	sem  chan struct{}
	wg   sync.WaitGroup
	done func() // a request's reply is written (or there is none)

	mu       sync.Mutex
	inline   bool   // the reader is running a handler; nobody reads
	episode  uint64 // counts inline handlers
	armed    uint64 // the episode the timer was armed for
	waiting  bool   // Serve's goroutine waits for the reader role
	timer    *time.Timer
	resume   chan struct{}
	end      chan struct{} // closed when reading has ended; err is set
	err      error
	endOnce  sync.Once
	sequence bool // MaxConcurrency is 1: always inline, never hand off

	// spawnLeft belongs to whichever goroutine reads: frames that still get
	// a goroutine each after a handoff.
	spawnLeft int
}

// run is the read loop. It returns true when reading has ended and false
// when the reader role has moved to another goroutine.
func (s *serving) run(serveGoroutine bool) bool {
	conn := s.conn
	for {
		if !serveGoroutine && s.giveBack() {
			return false
		}
		typ, data, err := conn.Read(s.ctx)
		switch {
		case err == ErrRateLimited: // not wrapped: this message only
			_ = conn.Write(typ, refusal(data, msregistry.CodeRateLimited, "message rate exceeded; slow down"))
			continue
		case err != nil:
			if conn.isNormalEnd(err) {
				err = nil
			}
			s.finish(err)
			return true
		}
		if !conn.acquire() {
			_ = conn.Write(typ, refusal(data, msregistry.CodeUnavailable, "server is shutting down; reconnect later"))
			continue
		}
		s.sem <- struct{}{}
		s.wg.Add(1)
		switch {
		case s.sequence:
			handle(s.ctx, conn, s.reg, typ, data, s.done)
		case len(s.sem) > 1 || s.spawnLeft > 0:
			if s.spawnLeft > 0 {
				s.spawnLeft--
			}
			go handle(s.ctx, conn, s.reg, typ, data, s.done)
		default:
			if !s.handleInline(typ, data) {
				if serveGoroutine {
					s.mu.Lock()
					s.waiting = true
					s.mu.Unlock()
				}
				return false
			}
		}
	}
}

// handleInline handles a frame on the reader's goroutine and reports
// whether this goroutine is still the reader afterwards.
func (s *serving) handleInline(typ MessageType, data []byte) bool {
	s.mu.Lock()
	s.inline = true
	s.episode++
	mine := s.episode
	s.armed = mine
	if s.timer == nil {
		s.timer = time.AfterFunc(handoffAfter, s.handoff)
	} else {
		s.timer.Reset(handoffAfter)
	}
	s.mu.Unlock()

	handle(s.ctx, s.conn, s.reg, typ, data, s.done)

	s.timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inline && s.episode == mine {
		s.inline = false
		return true
	}
	return false // handed off: another goroutine reads now
}

// handoff runs on the timer's goroutine when an inline handler is slow: it
// becomes the reader.
func (s *serving) handoff() {
	s.mu.Lock()
	if !s.inline || s.armed != s.episode {
		s.mu.Unlock()
		return
	}
	s.inline = false
	// This connection's handlers are slow: hand its next frames to
	// goroutines, so the reader is rarely left waiting in Read on a second
	// goroutine once the connection goes idle.
	s.spawnLeft = spawnAfterHandoff
	s.mu.Unlock()
	s.run(false)
}

// giveBack hands the reader role back to Serve's goroutine if it is waiting
// for it; the caller then stops reading.
func (s *serving) giveBack() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waiting {
		return false
	}
	s.waiting = false
	s.resume <- struct{}{}
	return true
}

func (s *serving) finish(err error) {
	s.endOnce.Do(func() {
		s.err = err
		close(s.end)
	})
}

// handle dispatches one frame and writes its reply; done runs once the
// reply is written, or at once when there is none.
func handle(ctx *Context, conn *Conn, reg *msregistry.Registry, typ MessageType, data []byte, done func()) {
	reply := HandleMessage(ctx, reg, data)
	if reply == nil || conn.writeReply(typ, reply, done) != nil {
		done()
	}
}

// refusal is the error frame for a request that was not processed; it
// echoes the request's pattern and id when the frame can be read.
func refusal(data []byte, code, message string) []byte {
	f, _ := msregistry.DecodeFrame(data)
	return msregistry.AppendError(nil, f.Pattern, f.ID, msregistry.NewError(code, message))
}
