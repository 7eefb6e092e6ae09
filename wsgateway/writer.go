package wsgateway

import (
	"bytes"
	"context"
	"fmt"
)

// How a message reaches the wire
//
// One goroutine at a time holds the writer role (c.writing). A write that
// finds the role free takes it and, when inline is set, writes on its own
// goroutine straight through coder/websocket; a write that finds it taken
// joins c.queue, up to Config.OutboundQueue messages. When the holder is
// done and the queue is not empty, a writer goroutine takes over and drains
// it, then gives the role up. So a message never waits for anything but the
// writes before it, an idle connection has no writer goroutine, and a
// request/response exchange needs none at all.
//
// Pushes to many connections (Hub) do not write inline: the pusher only
// queues and starts writers, so one peer's full socket never holds it up.
// Nor do writes to a peer that asked for batches (SubprotocolBatch): the
// writer goroutine sends what has queued up by the time it runs as one
// message.
//
// A socket write still in progress WriteTimeout after it began means the
// peer stopped reading, and the connection is cut (1013); see stall.go.

// outbound is one queued message; done, when set, runs once the message is
// written or dropped.
type outbound struct {
	typ  MessageType
	data []byte
	done func()
}

// write sends p as described above, on the calling goroutine when inline
// is set and no other write is in progress.
func (c *Conn) write(typ MessageType, p []byte, inline bool) error {
	return c.enqueue(typ, p, inline, nil)
}

// writeReply writes a reply like write and runs done once it is on the
// wire or dropped (at once when writeReply writes it itself, or fails), so
// a request keeps its Serve slot until then: a client that pipelines
// requests is held back by MaxConcurrency, never closed because its replies
// filled the queue while it was still sending.
func (c *Conn) writeReply(typ MessageType, p []byte, done func()) {
	if err := c.enqueue(typ, p, true, done); err != nil {
		done()
	}
}

// enqueue is write; done, when set, runs once a message written by the
// caller or queued is on the wire or dropped, and not at all when enqueue
// returns an error.
func (c *Conn) enqueue(typ MessageType, p []byte, inline bool, done func()) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.writing {
		if len(c.queue) >= c.cfg.OutboundQueue {
			c.mu.Unlock()
			c.fail(StatusTryAgainLater, "slow consumer", fmt.Errorf("%w: %d messages queued", ErrSlowConsumer, c.cfg.OutboundQueue))
			if c.cfg.Observer != nil {
				c.cfg.Observer.MessageDropped(DropSlowConsumer)
			}
			return ErrSlowConsumer
		}
		c.queue = append(c.queue, outbound{typ, p, done})
		c.mu.Unlock()
		return nil
	}
	c.writing = true
	if !inline || c.batching {
		c.queue = append(c.queue, outbound{typ, p, done})
		c.mu.Unlock()
		go c.drainQueue()
		return nil
	}
	c.mu.Unlock()
	ok := c.send(typ, p)
	if done != nil {
		done()
	}
	if ok {
		c.handOff()
	}
	return nil
}

// send writes one message to the socket under the stall watchdog. It
// reports whether the socket is still usable.
func (c *Conn) send(typ MessageType, p []byte) bool {
	c.stall.begin()
	err := c.ws.Write(context.Background(), typ, p)
	c.stall.end()
	if err != nil {
		c.writeFailed(err)
		return false
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer.MessageSent()
	}
	return true
}

// handOff gives the writer role up, or hands it to a writer goroutine when
// messages were queued meanwhile.
func (c *Conn) handOff() {
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.mu.Unlock()
		go c.drainQueue()
		return
	}
	c.releaseWriter()
	c.mu.Unlock()
}

// releaseWriter gives the writer role up; c.mu is held.
func (c *Conn) releaseWriter() {
	c.writing = false
	if c.flushed != nil {
		close(c.flushed)
		c.flushed = nil
	}
}

// drainQueue is the writer goroutine: it writes queued messages until the
// queue is empty, then gives the writer role up. Messages queued for a peer
// that asked for batches go out several to a WebSocket message.
func (c *Conn) drainQueue() {
	var spare []outbound
	for {
		c.mu.Lock()
		batch := c.queue
		if len(batch) == 0 {
			c.releaseWriter()
			c.mu.Unlock()
			return
		}
		c.queue = spare
		c.mu.Unlock()

		ok := true
		if c.batching {
			ok = c.sendBatch(batch)
		} else {
			for i := range batch {
				if ok {
					ok = c.send(batch[i].typ, batch[i].data)
				}
			}
		}
		markSent(batch)
		spare = batch[:0]
		if !ok {
			// The socket is gone: nothing queued can be delivered.
			c.mu.Lock()
			markSent(c.queue)
			c.queue = nil
			c.releaseWriter()
			c.mu.Unlock()
			return
		}
	}
}

// markSent runs the done callbacks of batch, whose messages are written or
// dropped, and clears batch.
func markSent(batch []outbound) {
	for _, m := range batch {
		if m.done != nil {
			m.done()
		}
	}
	clear(batch)
}

// sendBatch writes runs of queued text messages as one text message each,
// joined by newlines (see SubprotocolBatch), and other messages as they are.
func (c *Conn) sendBatch(batch []outbound) bool {
	var buf bytes.Buffer
	for i := 0; i < len(batch); {
		m := batch[i]
		j := i + 1
		if m.typ == MessageText {
			for j < len(batch) && batch[j].typ == MessageText && buf.Len()+len(batch[j].data) < maxBatchBytes {
				if buf.Len() == 0 {
					buf.Write(m.data)
				}
				buf.WriteByte('\n')
				buf.Write(batch[j].data)
				j++
			}
		}
		data := m.data
		if buf.Len() > 0 {
			data = bytes.Clone(buf.Bytes())
			buf.Reset()
		}
		if !c.send(m.typ, data) {
			return false
		}
		if c.cfg.Observer != nil {
			for range j - i - 1 {
				c.cfg.Observer.MessageSent()
			}
		}
		i = j
	}
	return true
}

// maxBatchBytes bounds one batched WebSocket message.
const maxBatchBytes = 64 << 10
