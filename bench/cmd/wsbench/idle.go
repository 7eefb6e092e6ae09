package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// idleSettle is how long a server is left alone before each RSS reading.
const idleSettle = 500 * time.Millisecond

// idleResult is the server memory that n idle connections cost, as the OS
// sees it.
type idleResult struct {
	conns       int
	rssBefore   uint64
	rssAfter    uint64
	rssHeld     uint64  // after the hold, when there is one
	rssPerConn  float64 // bytes
	heldPerConn float64 // bytes, after the hold
}

// runIdle reads the server's VmRSS (/proc/PID/status), opens n connections
// that then stay silent, and reads it again; with hold > 0, once more after
// hold (a hold of at least the 25 s ping interval includes a heartbeat). No
// GC is forced: the figures are what the OS sees, garbage and free pages the
// runtime has not returned included, as for a user's server.
func runIdle(ctx context.Context, ld *loadDialer, srv *serverProc, n int, opts dialOptions, hold time.Duration) (idleResult, error) {
	res := idleResult{conns: n}
	sleepUntil(ctx, time.Now().Add(idleSettle))
	var err error
	if res.rssBefore, err = rssBytes(srv.pid); err != nil {
		return res, err
	}
	conns, err := ld.dialAll(ctx, srv.wsURL, n, opts)
	if err != nil {
		return res, err
	}
	// Each client reads, as a real one does: it answers the server's
	// heartbeat pings.
	var ended atomic.Int64
	var closing atomic.Bool
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { readUntilClosed(c, &closing, &ended) })
	}
	defer func() {
		closing.Store(true)
		closeAll(conns)
		wg.Wait()
	}()
	sleepUntil(ctx, time.Now().Add(idleSettle))
	if res.rssAfter, err = rssBytes(srv.pid); err != nil {
		return res, err
	}
	fn := float64(n)
	res.rssPerConn = (float64(res.rssAfter) - float64(res.rssBefore)) / fn
	if hold > 0 {
		sleepUntil(ctx, time.Now().Add(hold))
		if res.rssHeld, err = rssBytes(srv.pid); err != nil {
			return res, err
		}
		res.heldPerConn = (float64(res.rssHeld) - float64(res.rssBefore)) / fn
	}
	if n := ended.Load(); n > 0 {
		return res, fmt.Errorf("%d of %d idle connections ended while held open", n, len(conns))
	}
	return res, ctx.Err()
}

// readUntilClosed reads and discards messages until c fails; a failure
// before closing is set counts in ended.
func readUntilClosed(c *websocket.Conn, closing *atomic.Bool, ended *atomic.Int64) {
	for {
		if _, _, err := c.NextReader(); err != nil {
			if !closing.Load() {
				ended.Add(1)
			}
			return
		}
	}
}
