package wsgateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// raceEnabled reports whether the test binary was built with -race, from
// the build settings the toolchain records in every binary.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

type loadPayload struct {
	Conn int    `json:"conn"`
	Seq  int    `json:"seq"`
	Data string `json:"data"`
}

type loadReply struct {
	Kind    string      `json:"kind"`
	Pattern string      `json:"pattern"`
	ID      string      `json:"id"`
	Payload loadPayload `json:"payload"`
	Error   *struct{ Code, Message string }
}

// TestLoadPipelinedRequestsAreAnsweredExactlyOnce pushes many connections,
// each pipelining many requests, through Serve and an msregistry registry.
// Every reply must arrive exactly once, with its request's id and payload,
// and every goroutine must be gone afterwards.
//
// Sizes, measured on the 2-core CI machine: 500 connections x 200 requests
// (100,000 round trips) take about 1 s without the race detector, but about
// 10 s with -race on an idle machine and 16 s or more when other builds
// share it. Under -race (detected from the binary's build settings) the
// test therefore runs 500 connections x 100 requests (50,000 round trips,
// about 5 s idle), which keeps the package under 30 s; the log line says
// which size ran.
func TestLoadPipelinedRequestsAreAnsweredExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	conns, perConn := 500, 200
	if raceEnabled() {
		perConn = 100
	}
	baseline := runtime.NumGoroutine()

	reg := msregistry.New()
	err := msregistry.Message(reg, "load.echo", func(_ context.Context, in loadPayload) (loadPayload, error) { return in, nil })
	if err != nil {
		t.Fatal(err)
	}
	srv := wsgateway.NewServer(registryGateway(reg), wsgateway.Config{})
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	hs := httptest.NewServer(mux)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + srv.Path()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	}
	t.Cleanup(stop)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()

	// Dial with bounded concurrency.
	clients := make([]*websocket.Conn, conns)
	var dialErr atomic.Value
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				dialErr.CompareAndSwap(nil, fmt.Errorf("dial %d: %w", i, err))
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				_ = c.CloseNow()
			}
		}
	})
	if err, _ := dialErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	if srv.Len() != conns {
		eventually(t, "all connections registered", func() bool { return srv.Len() == conns })
	}
	dialed := time.Since(start)

	// Each connection: one goroutine writes every request without waiting,
	// one reads every reply.
	var lost, bad atomic.Int64
	var firstErr atomic.Value
	report := func(err error) { firstErr.CompareAndSwap(nil, err) }
	for ci, c := range clients {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for seq := range perConn {
				msg := fmt.Appendf(nil, `{"kind":"message","pattern":"load.echo","payload":{"conn":%d,"seq":%d,"data":"p-%d-%d"},"id":"%d-%d"}`,
					ci, seq, ci, seq, ci, seq)
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					report(fmt.Errorf("conn %d write %d: %w", ci, seq, err))
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			seen := make([]bool, perConn)
			for got := 0; got < perConn; got++ {
				_, data, err := c.Read(ctx)
				if err != nil {
					lost.Add(int64(perConn - got))
					report(fmt.Errorf("conn %d read after %d replies: %w", ci, got, err))
					return
				}
				var r loadReply
				if err := json.Unmarshal(data, &r); err != nil {
					bad.Add(1)
					report(fmt.Errorf("conn %d: %w: %s", ci, err, data))
					continue
				}
				p := r.Payload
				ok := r.Kind == "response" && r.Pattern == "load.echo" && p.Conn == ci && p.Seq >= 0 && p.Seq < perConn &&
					r.ID == fmt.Sprintf("%d-%d", ci, p.Seq) && p.Data == fmt.Sprintf("p-%d-%d", ci, p.Seq)
				if !ok || seen[p.Seq] {
					bad.Add(1)
					report(fmt.Errorf("conn %d: unexpected or repeated reply %s", ci, data))
					continue
				}
				seen[p.Seq] = true
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d connections x %d requests (race %v): dialed in %s, all replies in %s (%.0f round trips/s)",
		conns, perConn, raceEnabled(), dialed.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		float64(conns*perConn)/(elapsed-dialed).Seconds())
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatalf("%d replies lost, %d wrong; first problem: %v", lost.Load(), bad.Load(), err)
	}

	for _, c := range clients {
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	eventually(t, "every connection removed", func() bool { return srv.Len() == 0 })
	stop()

	// Everything the test started is gone: within a small margin of the
	// goroutines that were running before it.
	const margin = 5
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+margin {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownUnderLoadAnswersEveryAcceptedRequestBefore1001: clients keep
// pipelining requests to a handler that takes a few milliseconds while the
// server shuts down. Every client must end with 1001; every request the
// server accepted (its handler ran) must have had its reply delivered
// before the close; every other reply is an "unavailable" refusal; no reply
// comes twice.
func TestShutdownUnderLoadAnswersEveryAcceptedRequestBefore1001(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	const clients, maxRequests = 16, 2000

	var mu sync.Mutex
	handled := map[string]int{}
	reg := msregistry.New()
	err := msregistry.Message(reg, "load.slow", func(_ context.Context, in loadPayload) (loadPayload, error) {
		mu.Lock()
		handled[fmt.Sprintf("%d-%d", in.Conn, in.Seq)]++
		mu.Unlock()
		time.Sleep(3 * time.Millisecond)
		return in, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, url := startServer(t, registryGateway(reg), wsgateway.Config{})

	type result struct {
		written   int
		responses map[string]int
		refused   map[string]int
		other     []string
		code      websocket.StatusCode
	}
	results := make([]*result, clients)
	var responded atomic.Int64
	var wg sync.WaitGroup
	for ci := range clients {
		c, _ := wstest.Dial(t, url, nil)
		res := &result{responses: map[string]int{}, refused: map[string]int{}}
		results[ci] = res
		closed := make(chan struct{})
		var written atomic.Int64
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			defer func() { res.written = int(written.Load()) }()
			for seq := range maxRequests {
				select {
				case <-closed:
					return
				default:
				}
				msg := fmt.Appendf(nil, `{"kind":"message","pattern":"load.slow","payload":{"conn":%d,"seq":%d},"id":"%d-%d"}`, ci, seq, ci, seq)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := c.Write(ctx, websocket.MessageText, msg)
				cancel()
				if err != nil {
					return // closed by the server
				}
				written.Add(1)
				time.Sleep(time.Millisecond)
			}
		}()
		go func() { // reader
			defer wg.Done()
			defer close(closed)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					res.code = websocket.CloseStatus(err)
					return
				}
				var r loadReply
				switch {
				case json.Unmarshal(data, &r) != nil:
					res.other = append(res.other, string(data))
				case r.Kind == "response" && r.ID == fmt.Sprintf("%d-%d", ci, r.Payload.Seq):
					res.responses[r.ID]++
					responded.Add(1)
				case r.Kind == "error" && r.Error != nil && r.Error.Code == msregistry.CodeUnavailable && strings.HasPrefix(r.ID, fmt.Sprint(ci, "-")):
					res.refused[r.ID]++
				default:
					res.other = append(res.other, string(data))
				}
			}
		}()
	}
	// Shut down mid-stream, once traffic is flowing on every connection.
	eventually(t, "traffic flowing", func() bool { return responded.Load() >= 40*clients })
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(20 * time.Second):
		t.Fatal("clients still running 20 s after shutdown")
	}
	if shutdownErr != nil {
		t.Fatalf("Shutdown: %v", shutdownErr)
	}

	mu.Lock()
	defer mu.Unlock()
	var totalWritten, totalResponses, totalRefused int
	for ci, res := range results {
		if res.code != websocket.StatusGoingAway {
			t.Errorf("client %d ended with %d, want 1001", ci, res.code)
		}
		if len(res.other) > 0 {
			t.Errorf("client %d got unexpected frames, first %s", ci, res.other[0])
		}
		for id, n := range res.responses {
			if n != 1 || handled[id] != 1 {
				t.Errorf("client %d: reply %s arrived %d times for %d handler runs", ci, id, n, handled[id])
			}
			if res.refused[id] != 0 {
				t.Errorf("client %d: %s both answered and refused", ci, id)
			}
		}
		for id, n := range res.refused {
			if n != 1 {
				t.Errorf("client %d: %s refused %d times", ci, id, n)
			}
		}
		if got := len(res.responses) + len(res.refused); got > res.written {
			t.Errorf("client %d: %d replies for %d requests", ci, got, res.written)
		}
		totalWritten += res.written
		totalResponses += len(res.responses)
		totalRefused += len(res.refused)
	}
	// Every request a handler ran was accepted: its reply must have come
	// before the 1001.
	for id := range handled {
		var ci, seq int
		if _, err := fmt.Sscanf(id, "%d-%d", &ci, &seq); err != nil {
			t.Fatal(err)
		}
		if results[ci].responses[id] == 0 {
			t.Errorf("accepted request %s lost its reply", id)
		}
	}
	t.Logf("%d requests written, %d answered, %d refused as unavailable, %d unanswered (written after the server's close)",
		totalWritten, totalResponses, totalRefused, totalWritten-totalResponses-totalRefused)
	if srv.Len() != 0 {
		t.Fatalf("%d connections left after Shutdown", srv.Len())
	}
}

// TestPipeliningClientThatReadsPromptlyIsNotASlowConsumer: a client that
// pipelines more requests than the outbound queue holds (here 1000 against
// a queue of 4x MaxConcurrency), and reads every reply as fast as it can,
// is not slow. Serve must push back on it (stop reading) rather than let
// replies pile up in the queue until the connection is closed with 1013.
// Whether the queue overflows depends on how fast the server reads and
// handles versus writes: without -race it does on the CI machine.
func TestPipeliningClientThatReadsPromptlyIsNotASlowConsumer(t *testing.T) {
	const queue, requests = 4 * wsgateway.DefaultMaxConcurrency, 1000
	rec := &recorder{Gateway: registryGateway(echoRegistry(t))}
	_, url := startServer(t, rec, wsgateway.Config{OutboundQueue: queue})
	c, _ := wstest.Dial(t, url, nil)
	payload := strings.Repeat("p", 2048)
	writeErr := make(chan error, 1)
	go func() {
		for i := range requests {
			msg := fmt.Sprintf(`{"kind":"message","pattern":"echo","payload":"%s","id":"q-%d"}`, payload, i)
			if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < requests {
		_, data, err := c.Read(ctx)
		if err != nil {
			<-writeErr
			st := rec.wait(t, 1)[0]
			if errors.Is(st.Cause, wsgateway.ErrSlowConsumer) {
				// The client sees 1013, or, when the close races a write in
				// progress, a connection cut mid-frame.
				t.Fatalf("a client reading promptly was closed as a slow consumer (%v) after %d of %d pipelined replies (OutboundQueue %d); client saw: %v",
					st, len(seen), requests, queue, err)
			}
			t.Fatalf("read after %d replies: %v (server status %v)", len(seen), err, st)
		}
		var r frame
		if err := json.Unmarshal(data, &r); err != nil || r.Kind != "response" || seen[r.ID] || string(r.Payload) != `"`+payload+`"` {
			t.Fatalf("reply %.80s (%v)", data, err)
		}
		seen[r.ID] = true
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	c.Close(websocket.StatusNormalClosure, "")
}
