package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fxforge/fxforge/wsgateway"
)

// Bounds of a fan-out run.
const (
	joinTimeout  = 10 * time.Second       // for every subscriber to get its first message
	joinProbe    = 20 * time.Millisecond  // between the messages published meanwhile
	fanoutGrace  = 15 * time.Second       // for the last messages to arrive after the window
	publishPause = 100 * time.Microsecond // when the window is full
)

// fanoutSpec describes one fan-out run.
type fanoutSpec struct {
	subs     int
	size     int // bytes per message
	window   int // messages in flight to the slowest subscriber
	warmup   time.Duration
	duration time.Duration
	batch    bool // subscribers offer wsgateway.SubprotocolBatch
}

// fanoutResult is one fan-out measurement against one server.
type fanoutResult struct {
	deliveries uint64 // messages received by subscribers inside the window
	wsMessages uint64 // WebSocket messages they came in (fewer when batched)
	published  uint64 // messages published in the whole run
	window     time.Duration
	server     cpuUse // over the window
	load       cpuUse // this process's, over the window
}

func (r fanoutResult) perSecond() float64 { return float64(r.deliveries) / r.window.Seconds() }

func (r fanoutResult) cpuPerDelivery() time.Duration {
	if r.deliveries == 0 {
		return 0
	}
	return time.Duration(r.server.seconds / float64(r.deliveries) * 1e9)
}

func (r fanoutResult) perWSMessage() float64 {
	if r.wsMessages == 0 {
		return 0
	}
	return float64(r.deliveries) / float64(r.wsMessages)
}

// subscriber is one receiving connection. Every message it gets must carry
// the sequence number after the previous one's: none lost, none twice,
// none out of order.
type subscriber struct {
	c          *websocket.Conn
	last       atomic.Uint64 // sequence number of the last message received
	deliveries atomic.Uint64
	wsMessages atomic.Uint64
	failure    atomic.Pointer[error] // why the reader stopped early
}

func (s *subscriber) fail(err error) { s.failure.Store(&err) }

func (s *subscriber) err() error {
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// read receives until the connection fails, splitting each WebSocket
// message on "\n" (a batching server joins frames with it; the others never
// send one).
func (s *subscriber) read(closing *atomic.Bool) {
	buf := make([]byte, 0, 4096)
	for {
		msg, err := readMessage(s.c, buf[:0])
		if err != nil {
			if !closing.Load() {
				s.fail(fmt.Errorf("connection ended after message %d: %w", s.last.Load(), err))
			}
			return
		}
		buf = msg
		var n uint64
		for frame := range bytes.SplitSeq(msg, []byte{'\n'}) {
			seq, err := tickSeq(frame)
			if err != nil {
				s.fail(err)
				return
			}
			if last := s.last.Load(); last != 0 && seq != last+1 {
				s.fail(fmt.Errorf("got message %d after %d: lost, repeated or out of order", seq, last))
				return
			}
			s.last.Store(seq)
			n++
		}
		s.deliveries.Add(n)
		s.wsMessages.Add(1)
	}
}

// runFanout connects spec.subs subscribers and one publisher. Once every
// subscriber has joined (received a message), the publisher asks for one
// message at a time, keeping at most spec.window messages in flight to the
// slowest subscriber (the fxforge servers' queues hold 256), for the
// warm-up and the window. Deliveries are counted inside the window; at the
// end every subscriber must have received every message since it joined.
func runFanout(ctx context.Context, ld *loadDialer, srv *serverProc, spec fanoutSpec, clk float64) (fanoutResult, error) {
	var res fanoutResult
	opts := dialOptions{}
	if spec.batch {
		opts.subprotocols = []string{wsgateway.SubprotocolBatch}
	}
	conns, err := ld.dialAll(ctx, srv.wsURL, spec.subs, opts)
	if err != nil {
		return res, err
	}
	pubs, err := ld.dialAll(ctx, srv.wsURL, 1, dialOptions{})
	if err != nil {
		closeAll(conns)
		return res, err
	}
	pub := pubs[0]
	subs := make([]*subscriber, len(conns))
	var closing atomic.Bool
	var wg sync.WaitGroup
	for i, c := range conns {
		subs[i] = &subscriber{c: c}
		wg.Go(func() { subs[i].read(&closing) })
	}
	// The publisher receives nothing, but reads to answer heartbeat pings.
	var pubEnded atomic.Int64
	wg.Go(func() { readUntilClosed(pub, &closing, &pubEnded) })
	defer func() {
		closing.Store(true)
		closeAll(append(conns, pub))
		wg.Wait()
	}()
	subErr := func() error {
		var errs []error
		failed := 0
		for i, s := range subs {
			if err := s.err(); err != nil {
				if failed++; failed <= 3 {
					errs = append(errs, fmt.Errorf("subscriber %d: %w", i+1, err))
				}
			}
		}
		if failed > 3 {
			errs = append(errs, fmt.Errorf("and %d more subscribers failed", failed-3))
		}
		return errors.Join(errs...)
	}
	slowest := func() uint64 {
		low := subs[0].last.Load()
		for _, s := range subs[1:] {
			low = min(low, s.last.Load())
		}
		return low
	}
	req := publishRequest(1, spec.size)
	var published uint64
	publish := func() error {
		if err := pub.WriteMessage(websocket.TextMessage, req); err != nil {
			return fmt.Errorf("publisher: %w", err)
		}
		published++
		return nil
	}

	// Join: publish now and then until every subscriber has a message.
	joinBy := time.Now().Add(joinTimeout)
	for slowest() == 0 {
		if time.Now().After(joinBy) {
			return res, fmt.Errorf("not every subscriber received a message within %s of connecting", joinTimeout)
		}
		if err := publish(); err != nil {
			return res, err
		}
		sleepUntil(ctx, time.Now().Add(joinProbe))
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}

	start := time.Now()
	winStart := start.Add(spec.warmup)
	winEnd := winStart.Add(spec.duration)
	pubErr := make(chan error, 1)
	go func() {
		for time.Now().Before(winEnd) && ctx.Err() == nil {
			if published-slowest() >= uint64(spec.window) {
				time.Sleep(publishPause)
				continue
			}
			if err := publish(); err != nil {
				pubErr <- err
				return
			}
		}
		pubErr <- nil
	}()
	count := func() (d, m uint64) {
		for _, s := range subs {
			d += s.deliveries.Load()
			m += s.wsMessages.Load()
		}
		return d, m
	}
	sleepUntil(ctx, winStart)
	d0, m0 := count()
	c0, cerr := sampleCPU(srv.pid)
	l0, lerr := sampleCPU(os.Getpid())
	sleepUntil(ctx, winEnd)
	d1, m1 := count()
	c1, cerr1 := sampleCPU(srv.pid)
	l1, lerr1 := sampleCPU(os.Getpid())
	if err := errors.Join(<-pubErr, cerr, lerr, cerr1, lerr1, ctx.Err()); err != nil {
		return res, err
	}

	// Every subscriber gets every message.
	doneBy := time.Now().Add(fanoutGrace)
	for slowest() < published {
		if err := subErr(); err != nil {
			return res, err
		}
		if time.Now().After(doneBy) {
			short := 0
			for _, s := range subs {
				if s.last.Load() < published {
					short++
				}
			}
			return res, errors.Join(fmt.Errorf("%d of %d subscribers did not receive all %d messages within %s", short, len(subs), published, fanoutGrace), subErr())
		}
		sleepUntil(ctx, time.Now().Add(10*time.Millisecond))
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	if err := subErr(); err != nil {
		return res, err
	}
	if pubEnded.Load() > 0 {
		return res, errors.New("the publisher's connection ended during the run")
	}
	res = fanoutResult{
		deliveries: d1 - d0, wsMessages: m1 - m0, published: published, window: spec.duration,
		server: c0.until(c1, clk), load: l0.until(l1, clk),
	}
	if res.deliveries == 0 {
		return res, errors.New("no message was delivered inside the measured window")
	}
	return res, nil
}
