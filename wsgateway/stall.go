package wsgateway

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// How a stalled write is noticed
//
// A peer that stops reading fills its socket buffer, and the write to it
// then blocks. While writes go on, the connection's stall timer checks them
// every WriteTimeout/stallChecks: writes counts each write's start and end,
// so it is odd while one is in progress, and a check that finds the same
// odd count for the (stallChecks+1)th time in a row has watched one write
// last at least WriteTimeout. The socket is then cut (1013). A write costs
// two atomic adds and a load; only the first write after a quiet spell arms
// the timer, and the timer disarms itself at the first check that finds no
// write in progress. So a stalled write is cut between WriteTimeout and
// 1¼ WriteTimeout after it began.

// stallChecks is how many checks make up one WriteTimeout.
const stallChecks = 4

// stallWatch is the stall timer and what it checks; see above.
type stallWatch struct {
	timer  *time.Timer
	period time.Duration // WriteTimeout / stallChecks
	writes atomic.Uint64 // +1 as a write begins and +1 as it ends
	armed  atomic.Bool   // the timer is set, or its callback runs
	seen   atomic.Uint64 // writes at the last check that found a write
	checks atomic.Int32  // checks in a row that found that same write
}

func (w *stallWatch) init(timeout time.Duration, f func()) {
	w.period = timeout / stallChecks
	w.timer = time.AfterFunc(time.Hour, f)
	w.timer.Stop()
}

// begin marks a socket write as started and arms the timer unless it is
// armed already.
func (w *stallWatch) begin() {
	w.writes.Add(1)
	if !w.armed.Load() {
		w.arm()
	}
}

// end marks the socket write as finished.
func (w *stallWatch) end() { w.writes.Add(1) }

func (w *stallWatch) arm() {
	if w.armed.CompareAndSwap(false, true) {
		w.timer.Reset(w.period)
	}
}

// check is the timer's callback: it reports whether one write has lasted
// WriteTimeout, and otherwise re-arms the timer while a write is in
// progress and disarms it when none is.
func (w *stallWatch) check() (stalled bool) {
	n := w.writes.Load()
	if n%2 == 0 {
		w.checks.Store(0)
		w.armed.Store(false)
		// A write that began meanwhile may have found the timer armed and
		// left it so: arm it for that write.
		if w.writes.Load()%2 == 1 {
			w.arm()
		}
		return false
	}
	if w.seen.Swap(n) != n {
		w.checks.Store(0)
	}
	if w.checks.Add(1) > stallChecks {
		return true
	}
	w.timer.Reset(w.period)
	return false
}

// stop stops the timer for good.
func (w *stallWatch) stop() {
	w.armed.Store(true) // no write arms it again
	w.timer.Stop()
}

// onStall runs when the stall timer fires: when a write has stalled, the
// peer does not read, so no close frame could reach it either; the socket
// is cut.
func (c *Conn) onStall() {
	if !c.stall.check() {
		return
	}
	c.setStatus(CloseStatus{Code: StatusTryAgainLater, Reason: "write timeout",
		Cause: fmt.Errorf("%w: a write took longer than %s", ErrSlowConsumer, c.cfg.WriteTimeout)})
	c.ctx.Logger().Warn("closing slow consumer: write timed out", zap.Duration("write_timeout", c.cfg.WriteTimeout))
	if c.cfg.Observer != nil {
		c.cfg.Observer.MessageDropped(DropSlowConsumer)
	}
	c.abort()
}
