package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Bounds that keep every loop of the load generator finite.
const (
	dialTimeout      = 10 * time.Second
	dialWorkers      = 64
	maxRoundTrips    = 1 << 32 // per connection and run
	drainGrace       = 5 * time.Second
	greetingPrefix   = "connected:"
	appInfoReplyHead = `{"kind":"response","pattern":"app.info"`
)

// appInfoFrame is the request of the app.info round trips, as in
// examples/hello-websockets.
var appInfoFrame = []byte(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"1"}`)

// loadDialer dials gorilla/websocket clients (a client implementation other
// than the server's coder/websocket), spreading the source addresses over
// 127.0.0.1..127.0.0.n so many connections do not exhaust one address's
// ephemeral ports.
type loadDialer struct {
	n    int
	next atomic.Uint64
	d    websocket.Dialer
}

func newLoadDialer(srcAddrs int) *loadDialer {
	ld := &loadDialer{n: max(1, min(srcAddrs, 254))}
	ld.d = websocket.Dialer{
		HandshakeTimeout: dialTimeout,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			i := ld.next.Add(1) % uint64(ld.n)
			nd := net.Dialer{
				Timeout:   dialTimeout,
				LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))},
			}
			return nd.DialContext(ctx, network, addr)
		},
	}
	return ld
}

// dialOptions says how dialAll opens each connection.
type dialOptions struct {
	greeting     bool     // read the "connected:<id>" line first
	subprotocols []string // offered; the first must be accepted
}

// dialAll opens n connections to url with a bounded number of workers.
// On error, every connection opened so far is closed.
func (ld *loadDialer) dialAll(ctx context.Context, url string, n int, opts dialOptions) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range min(dialWorkers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := ld.dial(ctx, url, opts)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("dial connection %d of %d: %w", i+1, n, err) })
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

func (ld *loadDialer) dial(ctx context.Context, url string, opts dialOptions) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := ld.d
	d.Subprotocols = opts.subprotocols
	c, resp, err := d.DialContext(dctx, url, nil)
	if err != nil {
		return nil, err
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if len(opts.subprotocols) > 0 && c.Subprotocol() != opts.subprotocols[0] {
		c.Close()
		return nil, fmt.Errorf("server chose subprotocol %q, want %q", c.Subprotocol(), opts.subprotocols[0])
	}
	if opts.greeting {
		_ = c.SetReadDeadline(time.Now().Add(dialTimeout))
		_, msg, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("read greeting: %w", err)
		}
		if !bytes.HasPrefix(msg, []byte(greetingPrefix)) {
			c.Close()
			return nil, fmt.Errorf("greeting %q does not start with %q", msg, greetingPrefix)
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	return c, nil
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// rttResult is one round-trip measurement against one server.
type rttResult struct {
	roundTrips uint64
	window     time.Duration
	hist       histogram
	server     cpuUse // over the window
}

func (r rttResult) perSecond() float64 { return float64(r.roundTrips) / r.window.Seconds() }

func (r rttResult) cpuPerRoundTrip() time.Duration {
	if r.roundTrips == 0 {
		return 0
	}
	return time.Duration(r.server.seconds / float64(r.roundTrips) * 1e9)
}

// rttSpec describes one round-trip run.
type rttSpec struct {
	conns    int
	warmup   time.Duration
	duration time.Duration
	frame    []byte
	greeting bool // read "connected:<id>" after dialing
	check    func(reply []byte) error
	before   func(context.Context, *serverProc) error // when set, run once before dialing
}

// runRTT opens spec.conns connections; each sends a frame and waits for its
// reply, again and again, until the measured window (after the warm-up)
// ends. Only round trips that start and end inside the window count; the
// server's CPU time is sampled at the window's edges.
func runRTT(ctx context.Context, ld *loadDialer, srv *serverProc, spec rttSpec, clk float64) (rttResult, error) {
	if spec.before != nil {
		if err := spec.before(ctx, srv); err != nil {
			return rttResult{}, err
		}
	}
	conns, err := ld.dialAll(ctx, srv.wsURL, spec.conns, dialOptions{greeting: spec.greeting})
	if err != nil {
		return rttResult{}, err
	}
	defer closeAll(conns)

	start := time.Now()
	winStart := start.Add(spec.warmup)
	winEnd := winStart.Add(spec.duration)
	deadline := winEnd.Add(drainGrace)

	hists := make([]histogram, len(conns))
	counts := make([]uint64, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		_ = c.SetReadDeadline(deadline)
		_ = c.SetWriteDeadline(deadline)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 4096)
			for range maxRoundTrips {
				t0 := time.Now()
				if !t0.Before(winEnd) || ctx.Err() != nil {
					return
				}
				if err := c.WriteMessage(websocket.TextMessage, spec.frame); err != nil {
					errs[i] = fmt.Errorf("write: %w", err)
					return
				}
				reply, err := readMessage(c, buf[:0])
				if err != nil {
					errs[i] = fmt.Errorf("read: %w", err)
					return
				}
				buf = reply
				t1 := time.Now()
				if err := spec.check(reply); err != nil {
					errs[i] = err
					return
				}
				if !t0.Before(winStart) && !t1.After(winEnd) {
					hists[i].record(t1.Sub(t0))
					counts[i]++
				}
			}
		}()
	}

	// Sample the server's CPU time at the window's edges.
	sleepUntil(ctx, winStart)
	c0, cerr0 := sampleCPU(srv.pid)
	sleepUntil(ctx, winEnd)
	c1, cerr1 := sampleCPU(srv.pid)
	wg.Wait()
	if err := errors.Join(errors.Join(errs...), cerr0, cerr1, ctx.Err()); err != nil {
		return rttResult{}, err
	}
	res := rttResult{window: spec.duration, server: c0.until(c1, clk)}
	for i := range conns {
		res.roundTrips += counts[i]
		res.hist.merge(&hists[i])
	}
	if res.roundTrips == 0 {
		return res, errors.New("no round trip completed inside the measured window")
	}
	return res, nil
}

// readMessage reads one whole message into buf, reusing its memory.
func readMessage(c *websocket.Conn, buf []byte) ([]byte, error) {
	_, r, err := c.NextReader()
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

// echoCheck accepts a reply equal to the frame sent.
func echoCheck(frame []byte) func([]byte) error {
	return func(reply []byte) error {
		if len(reply) != len(frame) {
			return fmt.Errorf("echo reply of %d bytes, sent %d", len(reply), len(frame))
		}
		return nil
	}
}

// appInfoCheck accepts an app.info response frame.
func appInfoCheck(reply []byte) error {
	if !bytes.HasPrefix(reply, []byte(appInfoReplyHead)) {
		return fmt.Errorf("app.info reply %q is not a response", reply)
	}
	return nil
}
