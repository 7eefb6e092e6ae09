package wsgateway

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// outbound is one queued message; done, when set, runs once the message is
// on the wire or has been dropped.
type outbound struct {
	typ  MessageType
	data []byte
	done func()
}

// enqueue queues a message and starts a writer goroutine if none runs.
func (c *Conn) enqueue(typ MessageType, p []byte, done func()) error {
	start, err := c.push(typ, p, done)
	if err != nil {
		return err
	}
	if start {
		go c.writeLoop()
	}
	return nil
}

// writeReply writes a message on the calling goroutine when no writer is
// active, and queues it otherwise; done runs once the message is on the wire
// or dropped (and not at all when writeReply returns an error). Serve uses it
// from handler goroutines, which are off the read loop: they may wait for
// their own reply's write, and saving a goroutine per reply is what makes
// request/response traffic cheap.
func (c *Conn) writeReply(typ MessageType, p []byte, done func()) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.writing {
		c.mu.Unlock()
		return c.enqueue(typ, p, done)
	}
	c.startWriting()
	if len(c.queue) > 0 {
		// Messages deferred for the reader go first: keep the order.
		c.queue = append(c.queue, outbound{typ, p, done})
		c.mu.Unlock()
		c.writeLoop()
		return nil
	}
	c.mu.Unlock()

	err := c.ws.Write(context.Background(), typ, p)
	c.progress.Add(1)
	if done != nil {
		done()
	}
	if err != nil {
		c.noteWriteError(err)
	}
	c.writeLoop() // whatever was queued meanwhile, then release the writer role
	return nil
}

// push appends a message to the queue and reports whether the caller must
// start a writer.
func (c *Conn) push(typ MessageType, p []byte, done func()) (start bool, err error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false, ErrClosed
	}
	if len(c.queue) >= c.cfg.OutboundQueue {
		c.mu.Unlock()
		c.fail(StatusTryAgainLater, "slow consumer", fmt.Errorf("%w: %d messages queued", ErrSlowConsumer, c.cfg.OutboundQueue))
		return false, ErrSlowConsumer
	}
	c.queue = append(c.queue, outbound{typ, p, done})
	switch {
	case c.writing:
	case c.between:
		// The reader is handling a message and flushes before it reads
		// again; usually the caller is the reader itself.
		if !c.deferring {
			c.deferring, c.deferSeq = true, c.readSeq
			c.flushTimer.Reset(deferLimit)
		}
	default:
		c.startWriting()
		start = true
	}
	c.mu.Unlock()
	return start, nil
}

// deferLimit bounds how long a message may wait for the reader to flush it.
const deferLimit = 10 * time.Millisecond

// How writes avoid a goroutine per message
//
// A write that finds no writer active while the connection's reader is
// between two Read calls is left in the queue: the reader flushes the queue
// itself just before it blocks in the next Read, as a plain echo loop would,
// so request/response traffic costs no goroutine. The reader only ever
// waits on its own connection, so writers still never block. flushTimer
// bounds the wait: a reader that has not come back within deferLimit is
// taken as gone, a writer takes over, and writes stop waiting for it.

// flushBeforeRead writes what is queued, on the reader's goroutine, before
// the reader blocks. The reader is no longer between reads afterwards.
func (c *Conn) flushBeforeRead() {
	c.mu.Lock()
	c.between = false
	c.readSeq++
	flush := len(c.queue) > 0 && !c.writing && !c.closing
	if flush {
		c.startWriting()
	}
	c.mu.Unlock()
	if flush {
		c.writeLoop()
	}
}

// onFlushTimer hands deferred messages to a writer when the reader has not
// come back to Read within deferLimit, and stops deferring for that reader.
func (c *Conn) onFlushTimer() {
	c.mu.Lock()
	c.deferring = false
	start := false
	if len(c.queue) > 0 && !c.writing {
		if c.between && c.readSeq != c.deferSeq {
			// The reader came back and is busy again: wait for it once more.
			c.deferring, c.deferSeq = true, c.readSeq
			c.flushTimer.Reset(deferLimit)
		} else {
			c.between = false
			c.startWriting()
			start = true
		}
	}
	c.mu.Unlock()
	if start {
		c.writeLoop() // already on the timer's own goroutine
	}
}

// startWriting takes the writer role and makes sure the watchdog is armed.
// c.mu must be held.
func (c *Conn) startWriting() {
	c.writing = true
	if !c.armed {
		c.armed = true
		c.seen = c.progress.Load()
		c.watchdog.Reset(c.cfg.WriteTimeout)
	}
}

// writeLoop writes queued messages until the queue is empty, then gives up
// the writer role.
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
			m := batch[i]
			batch[i] = outbound{}
			if err == nil {
				err = c.ws.Write(context.Background(), m.typ, m.data)
				c.progress.Add(1)
			}
			if m.done != nil {
				m.done()
			}
		}

		var dropped []outbound
		c.mu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		if err != nil {
			// The socket is gone; nothing queued can be delivered.
			dropped, c.queue = c.queue, nil
		}
		c.mu.Unlock()
		for _, m := range dropped {
			if m.done != nil {
				m.done()
			}
		}
		if err != nil {
			c.noteWriteError(err)
		}
	}
}

// onWatchdog runs every WriteTimeout while a writer is active. A writer that
// has written nothing since the last look is stuck on a peer that does not
// read: the connection is cut, since no close frame could reach that peer.
// So a stalled write is noticed after one to two WriteTimeouts, and busy
// connections pay no timer operation per message.
func (c *Conn) onWatchdog() {
	c.mu.Lock()
	if !c.writing {
		c.armed = false
		c.mu.Unlock()
		return
	}
	if p := c.progress.Load(); p != c.seen {
		c.seen = p
		c.watchdog.Reset(c.cfg.WriteTimeout)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.setStatus(CloseStatus{Code: StatusTryAgainLater, Reason: "write timeout",
		Cause: fmt.Errorf("%w: no write completed in %s", ErrSlowConsumer, c.cfg.WriteTimeout)})
	c.ctx.Logger().Warn("closing slow consumer: write timed out", zap.Duration("write_timeout", c.cfg.WriteTimeout))
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.abort()
}
