package wsgateway_test

// Hostile clients. Every case runs against a server while a well-behaved
// client (a bystander) keeps doing round trips on its own connection, and
// afterwards checks that the bystander still works and that the server's
// connection count is back to just the bystander. goleak (main_test.go)
// checks at the end of the package that nothing was left running.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
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

// roundTripper does the i-th round trip of a bystander on c.
type roundTripper func(ctx context.Context, c *websocket.Conn, i int) error

// textEcho is the round trip against the echo gateway.
func textEcho(ctx context.Context, c *websocket.Conn, i int) error {
	want := fmt.Sprintf("bystander-%d", i)
	if err := c.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
		return fmt.Errorf("write %d: %w", i, err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("read %d: %w", i, err)
	}
	if string(got) != want {
		return fmt.Errorf("round trip %d: got %q, want %q", i, got, want)
	}
	return nil
}

// frameEcho is the round trip against registryGateway(echoRegistry).
func frameEcho(ctx context.Context, c *websocket.Conn, i int) error {
	req := fmt.Sprintf(`{"kind":"message","pattern":"echo","payload":%d,"id":"b-%d"}`, i, i)
	if err := c.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		return fmt.Errorf("write %d: %w", i, err)
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("read %d: %w", i, err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("reply %d: %w", i, err)
	}
	if f.Kind != "response" || f.ID != fmt.Sprintf("b-%d", i) || string(f.Payload) != fmt.Sprint(i) {
		return fmt.Errorf("reply %d: %s", i, data)
	}
	return nil
}

// bystander is a well-behaved client that keeps doing round trips in the
// background until checked.
type bystander struct {
	c      *websocket.Conn
	rt     roundTripper
	pause  time.Duration
	stop   chan struct{}
	done   chan struct{}
	rounds atomic.Int64
	err    error // set before done is closed
}

// startBystander dials url and starts round trips, pausing pause between
// them. greeted says the gateway greets first (echo does).
func startBystander(t *testing.T, url string, greeted bool, rt roundTripper, pause time.Duration) *bystander {
	t.Helper()
	c, _ := wstest.Dial(t, url, nil)
	if greeted {
		wstest.ReadText(t, c)
	}
	b := &bystander{c: c, rt: rt, pause: pause, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	t.Cleanup(b.halt)
	b.waitRounds(t, 3)
	return b
}

func (b *bystander) run() {
	defer close(b.done)
	// Bounded: a round trip every pause for at most 30 s.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-b.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := b.rt(ctx, b.c, i)
		cancel()
		if err != nil {
			b.err = err
			return
		}
		b.rounds.Add(1)
		time.Sleep(b.pause)
	}
}

func (b *bystander) halt() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
}

// waitRounds waits until the bystander has done n more round trips,
// failing at once if one of them failed.
func (b *bystander) waitRounds(t *testing.T, n int64) {
	t.Helper()
	target := b.rounds.Load() + n
	deadline := time.Now().Add(5 * time.Second)
	for b.rounds.Load() < target {
		select {
		case <-b.done:
			t.Fatalf("bystander stopped after %d round trips: %v", b.rounds.Load(), b.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bystander made %d of %d round trips in 5 s", b.rounds.Load()-(target-n), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// finish checks that the bystander kept working, that the server holds
// only its connection, then closes it normally and waits for the server to
// hold none.
func (b *bystander) finish(t *testing.T, srv *wsgateway.Server) {
	t.Helper()
	b.waitRounds(t, 3)
	eventually(t, "only the bystander left", func() bool { return srv.Len() == 1 })
	b.halt()
	if b.err != nil {
		t.Fatalf("bystander failed after %d round trips: %v", b.rounds.Load(), b.err)
	}
	if err := b.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("bystander close: %v", err)
	}
	eventually(t, "no connection left", func() bool { return srv.Len() == 0 })
}

// statuses returns the OnDisconnect statuses recorded so far.
func (r *recorder) snapshot() []wsgateway.CloseStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wsgateway.CloseStatus(nil), r.statuses...)
}

// rawUpgrade completes a WebSocket handshake by hand over plain TCP and
// returns the connection and a reader positioned just after the 101
// response. The connection has a 10 s deadline and is closed when the test
// ends.
func rawUpgrade(t *testing.T, wsURL string) (net.Conn, *bufio.Reader) {
	t.Helper()
	u, err := neturl.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	nc := rawDial(t, u.Host)
	req := "GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return nc, br
}

// rawDial opens a TCP connection to host with a 10 s deadline, closed when
// the test ends.
func rawDial(t *testing.T, host string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

func hostOf(t *testing.T, wsURL string) string {
	t.Helper()
	u, err := neturl.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opClose        = 0x8
	opPing         = 0x9
)

// clientFrame encodes one frame as a client would send it; masked false
// gives the unmasked frame RFC 6455 forbids clients to send.
func clientFrame(fin bool, opcode byte, masked bool, payload []byte) []byte {
	b0 := opcode & 0x0f
	if fin {
		b0 |= 0x80
	}
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, maskBit|byte(n))
	case n < 1<<16:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

// serverEnd is how the server ended a raw connection.
type serverEnd struct {
	code    websocket.StatusCode // close code sent by the server; -1 for none
	reason  string
	frames  int           // data frames received before the close frame
	elapsed time.Duration // from the call until the server dropped TCP
}

// readServerFrame reads one frame the server sent; servers never mask.
func readServerFrame(br *bufio.Reader) (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("server sent a masked frame (header %x)", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, payload, nil
}

// readGreeting reads the echo gateway's greeting from a raw connection.
func readGreeting(t *testing.T, br *bufio.Reader) {
	t.Helper()
	op, p, err := readServerFrame(br)
	if err != nil || op != opText || !strings.HasPrefix(string(p), "connected:") {
		t.Fatalf("greeting: opcode %d %q %v", op, p, err)
	}
}

// awaitServerEnd reads server frames until the server closes the TCP
// connection. When reply is true it answers the server's close frame as a
// well-behaved client would; otherwise it just keeps reading. It fails the
// test when the connection is still open after 5 s.
func awaitServerEnd(t *testing.T, nc net.Conn, br *bufio.Reader, reply bool) serverEnd {
	t.Helper()
	start := time.Now()
	_ = nc.SetReadDeadline(start.Add(5 * time.Second))
	end := serverEnd{code: -1}
	for {
		op, payload, err := readServerFrame(br)
		if err != nil {
			end.elapsed = time.Since(start)
			checkDropped(t, err)
			return end
		}
		switch op {
		case opClose:
			if end.code != -1 {
				t.Fatalf("server sent a second close frame (%x)", payload)
			}
			end.code = websocket.StatusNoStatusRcvd
			if len(payload) >= 2 {
				end.code = websocket.StatusCode(binary.BigEndian.Uint16(payload))
				end.reason = string(payload[2:])
			}
			if reply {
				_, _ = nc.Write(clientFrame(true, opClose, true, payload[:min(2, len(payload))]))
			}
		case opContinuation, opText, 0x2:
			end.frames++
		}
	}
}

// checkDropped fails unless err says the peer closed the connection.
func checkDropped(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept the connection open for 5 s")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		t.Fatalf("reading from server: %v", err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// seededBytes returns n bytes from a fixed seed, so every run sends the
// same garbage.
func seededBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRawTCPGarbageDoesNotDisturbOtherClients(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)
	host := hostOf(t, url)

	cases := []struct {
		name string
		send []byte
	}{
		{"random bytes", seededBytes(1, 4096)},
		{"garbage request line", []byte("GARBAGE \x00\x01\x02 HTTP/9.9\r\nHost: \xff\r\n\r\n")},
		{"request line without headers end", []byte("GET /ws HTTP/1.1\r\n\x7f\x7f\x7f\r\n\r\n")},
		{"oversize header", []byte("GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawDial(t, host)
			// The server may hang up before it has read everything.
			go func() { _, _ = nc.Write(tc.send) }()
			start := time.Now()
			resp, _ := io.ReadAll(nc)
			if time.Since(start) > 5*time.Second {
				t.Fatal("server kept a garbage connection open")
			}
			if len(resp) > 0 && !strings.HasPrefix(string(resp), "HTTP/1.1 4") && !strings.HasPrefix(string(resp), "HTTP/1.1 5") {
				t.Fatalf("server answered garbage with %q", resp[:min(len(resp), 40)])
			}
			b.waitRounds(t, 3)
		})
	}
	if got := rec.snapshot(); len(got) != 0 {
		t.Fatalf("garbage that never upgraded reached the gateway: %v", got)
	}
	b.finish(t, srv)
}

// TestGarbageFrameBytesAfterHandshakeEndOnlyThatConnection sends 128 KiB of
// random bytes after a valid handshake: whatever frame headers they decode
// to, the server must end the connection (a protocol error, bad UTF-8 or a
// frame over the read limit) and report it exactly once.
func TestGarbageFrameBytesAfterHandshakeEndOnlyThatConnection(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			before := len(rec.snapshot())
			nc, br := rawUpgrade(t, url)
			garbage := seededBytes(seed, 128<<10)
			go func() { _, _ = nc.Write(garbage) }()
			end := awaitServerEnd(t, nc, br, false)
			t.Logf("server ended the connection with %d %q after %s", end.code, end.reason, end.elapsed)
			if end.code == websocket.StatusNormalClosure {
				t.Errorf("server closed a garbage connection with 1000 (normal closure)")
			}
			eventually(t, "OnDisconnect", func() bool { return len(rec.snapshot()) == before+1 })
			b.waitRounds(t, 3)
		})
	}
	time.Sleep(20 * time.Millisecond) // a second OnDisconnect would show up now
	if got := rec.snapshot(); len(got) != 4 {
		t.Fatalf("OnDisconnect called %d times for 4 connections: %v", len(got), got)
	}
	b.finish(t, srv)
}

// TestProtocolViolationsFailTheConnectionWith1002 covers the frames RFC 6455
// says a server must fail the connection for.
func TestProtocolViolationsFailTheConnectionWith1002(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	cases := []struct {
		name  string
		frame []byte
	}{
		{"reserved data opcode", clientFrame(true, 0x3, true, []byte("x"))},
		{"reserved control opcode", clientFrame(true, 0xb, true, nil)},
		{"fragmented ping", clientFrame(false, opPing, true, []byte("p"))},
		{"control frame over 125 bytes", clientFrame(true, opPing, true, make([]byte, 126))},
		{"reserved bits", append([]byte{0x80 | 0x40 | 0x20 | opText}, clientFrame(true, opText, true, []byte("x"))[1:]...)},
		{"continuation without a start", clientFrame(true, opContinuation, true, []byte("x"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.snapshot())
			nc, br := rawUpgrade(t, url)
			readGreeting(t, br)
			if _, err := nc.Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			end := awaitServerEnd(t, nc, br, true)
			if end.code != websocket.StatusProtocolError {
				t.Errorf("server closed with %d %q, want 1002", end.code, end.reason)
			}
			if end.frames != 0 {
				t.Errorf("server answered the bad frame with %d data frames", end.frames)
			}
			eventually(t, "OnDisconnect", func() bool { return len(rec.snapshot()) == before+1 })
			b.waitRounds(t, 3)
		})
	}
	b.finish(t, srv)
}

// TestUnmaskedClientFrameFailsTheConnection: RFC 6455 section 5.1 says a
// server must close the connection on an unmasked client frame (and may
// send 1002).
func TestUnmaskedClientFrameFailsTheConnection(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	nc, br := rawUpgrade(t, url)
	readGreeting(t, br)
	if _, err := nc.Write(clientFrame(true, opText, false, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	end := awaitServerEnd(t, nc, br, true)
	if end.frames != 0 {
		t.Errorf("server sent %d data frames; the unmasked frame must not be echoed", end.frames)
	}
	t.Logf("server ended the connection after %s with close code %d %q (-1: none)", end.elapsed, end.code, end.reason)
	st := rec.wait(t, 1)[0]
	if st.Cause == nil {
		t.Errorf("status %v has no cause", st)
	}
	b.finish(t, srv)
}

// TestUnmaskedClientFrameIsNotClosedAsNormal pins the close code: a
// protocol violation must not be reported to the peer as 1000 (normal
// closure), which says the connection did what it was for.
func TestUnmaskedClientFrameIsNotClosedAsNormal(t *testing.T) {
	rec := &recorder{Gateway: echo}
	_, url := startServer(t, rec, wsgateway.Config{})
	nc, br := rawUpgrade(t, url)
	readGreeting(t, br)
	if _, err := nc.Write(clientFrame(true, opText, false, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	end := awaitServerEnd(t, nc, br, true)
	if end.code == websocket.StatusNormalClosure {
		t.Fatalf("an unmasked client frame was answered with close 1000 %q; want 1002 (protocol error) or no close frame", end.reason)
	}
	if end.code != websocket.StatusProtocolError && end.code != -1 {
		t.Fatalf("server closed with %d %q, want 1002 or no close frame", end.code, end.reason)
	}
}

// TestProtocolErrorIsReportedToOnDisconnectAsSent: CloseStatus.Code is
// documented as "the close code sent by whichever side closed first", so a
// connection the server failed with 1002 must be reported as 1002, not as
// 1006 (abnormal closure, no close frame).
func TestProtocolErrorIsReportedToOnDisconnectAsSent(t *testing.T) {
	rec := &recorder{Gateway: echo}
	_, url := startServer(t, rec, wsgateway.Config{})
	nc, br := rawUpgrade(t, url)
	readGreeting(t, br)
	if _, err := nc.Write(clientFrame(true, 0x3, true, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	end := awaitServerEnd(t, nc, br, true)
	if end.code != websocket.StatusProtocolError {
		t.Fatalf("server sent %d, want 1002", end.code)
	}
	st := rec.wait(t, 1)[0]
	if st.Code != websocket.StatusProtocolError {
		t.Fatalf("peer was sent 1002 but OnDisconnect reports %v (cause %v)", st, st.Cause)
	}
	if st.ByPeer {
		t.Fatalf("status %v says the peer closed first", st)
	}
}

// TestStalledHandshakeIsCutOffByReadHeaderTimeout: a client that sends half
// an upgrade request and sits is disconnected by the HTTP server's
// ReadHeaderTimeout, never reaches the gateway, and holds up nobody.
func TestStalledHandshakeIsCutOffByReadHeaderTimeout(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv := wsgateway.NewServer(rec, wsgateway.Config{})
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: timeout}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	url := "ws://" + ln.Addr().String() + srv.Path()
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	const stallers = 5
	var wg sync.WaitGroup
	errs := make(chan error, stallers)
	for i := range stallers {
		nc := rawDial(t, ln.Addr().String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			half := "GET /ws HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
			if i%2 == 1 { // trickle the first bytes, then stop
				half = half[:10]
			}
			start := time.Now()
			if _, err := io.WriteString(nc, half); err != nil {
				errs <- err
				return
			}
			_ = nc.SetReadDeadline(start.Add(5 * time.Second))
			data, err := io.ReadAll(nc)
			elapsed := time.Since(start)
			switch {
			case err != nil && !isReset(err):
				errs <- fmt.Errorf("staller %d: %v after %s", i, err, elapsed)
			case elapsed < timeout/2:
				errs <- fmt.Errorf("staller %d cut off after %s, before the %s timeout", i, elapsed, timeout)
			case elapsed > timeout+2*time.Second:
				errs <- fmt.Errorf("staller %d cut off only after %s", i, elapsed)
			case strings.Contains(string(data), "101"):
				errs <- fmt.Errorf("staller %d was upgraded: %q", i, data)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The bystander's hijacked connection outlives the header timeout.
	time.Sleep(timeout)
	b.waitRounds(t, 5)
	if got := rec.snapshot(); len(got) != 0 {
		t.Fatalf("a stalled handshake reached the gateway: %v", got)
	}
	b.finish(t, srv)
}

func TestOversizeFrameClosesOnlyThatClientWith1009(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{ReadLimit: 4096})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	big, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, big)
	_ = big.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 4097)))
	if code := closeCode(t, big); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversize client saw %d, want 1009", code)
	}
	// A frame header that announces far more than the limit: the server
	// must stop at the limit, not read (or wait for) the rest.
	nc, br := rawUpgrade(t, url)
	readGreeting(t, br)
	hdr := []byte{0x80 | opText, 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<40)
	hdr = append(hdr, 0, 0, 0, 0) // mask key 0: the payload goes as is
	if _, err := nc.Write(append(hdr, strings.Repeat("y", 4097)...)); err != nil {
		t.Fatal(err)
	}
	end := awaitServerEnd(t, nc, br, true)
	if end.code != websocket.StatusMessageTooBig {
		t.Errorf("a 1 TiB frame got close %d %q, want 1009", end.code, end.reason)
	}
	sts := rec.wait(t, 2)
	for _, st := range sts {
		if st.Code != websocket.StatusMessageTooBig {
			t.Errorf("server status %v, want 1009", st)
		}
	}
	b.finish(t, srv)
}

func TestInvalidUTF8ClosesOnlyThatClientWith1007(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	bad := [][]byte{
		{0xff},
		{'a', 0xc3},                // truncated two-byte sequence
		{0xed, 0xa0, 0x80},         // UTF-16 surrogate
		{0xf4, 0x90, 0x80, 0x80},   // above U+10FFFF
		{0xc0, 0xaf},               // overlong "/"
		[]byte("ok \xe2\x82 then"), // truncated in the middle
	}
	for i, p := range bad {
		c, _ := wstest.Dial(t, url, nil)
		wstest.ReadText(t, c)
		_ = c.Write(context.Background(), websocket.MessageText, p)
		if code := closeCode(t, c); code != websocket.StatusInvalidFramePayloadData {
			t.Fatalf("payload %d (%x): client saw %d, want 1007", i, p, code)
		}
	}
	for _, st := range rec.wait(t, len(bad)) {
		if st.Code != websocket.StatusInvalidFramePayloadData || !errors.Is(st.Cause, wsgateway.ErrInvalidUTF8) {
			t.Errorf("status %v cause %v", st, st.Cause)
		}
	}
	b.finish(t, srv)
}

// TestFloodingClientIsRateLimitedWhileNeighbourIsServed: one client sends
// frames as fast as it can through Serve with a MessageRate; it gets
// rate_limited error frames, then 1008, while a client within the rate is
// served throughout.
func TestFloodingClientIsRateLimitedWhileNeighbourIsServed(t *testing.T) {
	const rate, burst, violations = 20, 10, 20
	rec := &recorder{Gateway: registryGateway(echoRegistry(t))}
	srv, url := startServer(t, rec, wsgateway.Config{MessageRate: rate, MessageBurst: burst, RateViolations: violations})
	// 1 round trip per 60 ms stays within 20/s.
	b := startBystander(t, url, false, frameEcho, 60*time.Millisecond)

	flood, _ := wstest.Dial(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	request := func(i int) []byte {
		return fmt.Appendf(nil, `{"kind":"message","pattern":"echo","payload":%d,"id":"f-%d"}`, i, i)
	}

	// Phase 1: a burst that stays short of the close. Every frame is
	// answered: a response within the burst, a rate_limited error over it.
	const first = burst + violations - 2
	for i := range first {
		if err := flood.Write(ctx, websocket.MessageText, request(i)); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	var responses, limited int
	for range first {
		f := readFrame(t, flood)
		switch {
		case ids[f.ID]:
			t.Fatalf("second reply for %s", f.ID)
		case f.Kind == "response":
			responses++
		case f.Kind == "error" && f.Error != nil && f.Error.Code == msregistry.CodeRateLimited:
			limited++
		default:
			t.Fatalf("unexpected frame %+v", f)
		}
		ids[f.ID] = true
	}
	if responses < burst || limited < 1 {
		t.Fatalf("%d responses and %d rate_limited errors for %d frames; want >= %d and >= 1", responses, limited, first, burst)
	}

	// Phase 2: flood until the server closes the connection.
	code := make(chan websocket.StatusCode, 1)
	go func() {
		for {
			if _, _, err := flood.Read(ctx); err != nil {
				code <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	sent := first
	for i := first; i < 5000; i++ {
		if err := flood.Write(ctx, websocket.MessageText, request(i)); err != nil {
			break // closed by the server
		}
		sent++
	}
	got := <-code
	t.Logf("flood: sent %d frames; phase 1: %d responses, %d rate_limited; close %d", sent, responses, limited, got)
	if got != websocket.StatusPolicyViolation {
		t.Fatalf("flooder saw close %d, want 1008", got)
	}
	st := rec.wait(t, 1)[0]
	if st.Code != websocket.StatusPolicyViolation || !errors.Is(st.Cause, wsgateway.ErrRateLimited) {
		t.Fatalf("flooder status %v cause %v", st, st.Cause)
	}
	b.finish(t, srv)
}

// TestRapidConnectDisconnectLeavesNothingBehind connects and disconnects
// 200 times as fast as it can, half with a close handshake and half by
// dropping TCP, and checks every connection was reported once and removed.
func TestRapidConnectDisconnectLeavesNothingBehind(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	const n, workers = 200, 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, _, err := websocket.Dial(ctx, url, nil)
				if err != nil {
					cancel()
					errs <- fmt.Errorf("dial %d: %w", i, err)
					return
				}
				switch i % 4 {
				case 0: // close handshake straight away
					err = c.Close(websocket.StatusNormalClosure, "")
				case 1: // drop TCP straight away
					err = c.CloseNow()
				case 2: // read the greeting, then close
					if _, _, err = c.Read(ctx); err == nil {
						err = c.Close(websocket.StatusGoingAway, "bye")
					}
				case 3: // read the greeting, then drop
					if _, _, err = c.Read(ctx); err == nil {
						err = c.CloseNow()
					}
				}
				cancel()
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					_ = c.CloseNow()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sts := rec.wait(t, n)
	codes := map[websocket.StatusCode]int{}
	for _, st := range sts {
		codes[st.Code]++
	}
	t.Logf("close statuses: %v", codes)
	b.finish(t, srv)
}

// TestDroppedTCPConnectionsReportAbnormalClosureOnce opens many
// connections and drops them all without a close frame; the server notices
// each one and calls OnDisconnect exactly once with 1006.
func TestDroppedTCPConnectionsReportAbnormalClosureOnce(t *testing.T) {
	const n = 50
	var mu sync.Mutex
	perConn := map[string]int{}
	rec := &recorder{Gateway: wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		err := echo(ctx, conn)
		mu.Lock()
		perConn[ctx.RequestID()]++
		mu.Unlock()
		return err
	})}
	srv, url := startServer(t, rec, wsgateway.Config{})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	var clients []*websocket.Conn
	var raws []net.Conn
	for i := range n {
		if i%2 == 0 {
			c, _ := wstest.Dial(t, url, nil)
			wstest.ReadText(t, c)
			clients = append(clients, c)
		} else {
			nc, _ := rawUpgrade(t, url)
			raws = append(raws, nc)
		}
	}
	eventually(t, "all connected", func() bool { return srv.Len() == n+1 })
	for _, c := range clients {
		_ = c.CloseNow()
	}
	for _, nc := range raws {
		_ = nc.Close()
	}
	sts := rec.wait(t, n)
	for _, st := range sts {
		if st.Code != websocket.StatusAbnormalClosure || st.ByPeer || st.Cause == nil {
			t.Errorf("dropped connection reported as %v (cause %v), want 1006 with a cause", st, st.Cause)
		}
	}
	mu.Lock()
	if len(perConn) != n {
		t.Errorf("%d gateways returned, want %d", len(perConn), n)
	}
	for id, k := range perConn {
		if k != 1 {
			t.Errorf("connection %s ended %d times", id, k)
		}
	}
	mu.Unlock()
	b.finish(t, srv)
}

// TestStalledPartialFrameIsCutOffByHeartbeat: a client that sends a frame
// header and part of its payload, then sits, blocks the connection's reader
// (a pong can only be read after the payload), so the heartbeat must end
// it.
func TestStalledPartialFrameIsCutOffByHeartbeat(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	b := startBystander(t, url, true, textEcho, time.Millisecond)

	nc, br := rawUpgrade(t, url)
	readGreeting(t, br)
	frame := clientFrame(true, opText, true, []byte(strings.Repeat("z", 100)))
	if _, err := nc.Write(frame[:50]); err != nil {
		t.Fatal(err)
	}
	end := awaitServerEnd(t, nc, br, false)
	t.Logf("stalled frame cut off after %s (close code %d)", end.elapsed, end.code)
	if end.elapsed > 3*time.Second {
		t.Fatalf("stalled frame held the connection for %s", end.elapsed)
	}
	st := rec.wait(t, 1)[0]
	if !errors.Is(st.Cause, wsgateway.ErrHeartbeatTimeout) {
		t.Fatalf("status %v cause %v, want a heartbeat timeout", st, st.Cause)
	}
	b.finish(t, srv)
}

// TestRateLimitCloseDeliversAcceptedReplies: requests accepted within the
// burst are in flight when the connection is closed for its rate; their
// replies must reach the client before the 1008, as a shutdown's do before
// the 1001 ("nothing is dropped silently").
func TestRateLimitCloseDeliversAcceptedReplies(t *testing.T) {
	reg := msregistry.New()
	var handled atomic.Int32
	err := msregistry.Message(reg, "slow", func(_ context.Context, in int) (int, error) {
		handled.Add(1)
		time.Sleep(100 * time.Millisecond) // still running when the 1008 comes
		return in, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const burst, violations = 3, 3
	rec := &recorder{Gateway: registryGateway(reg)}
	_, url := startServer(t, rec, wsgateway.Config{MessageRate: 0.001, MessageBurst: burst, RateViolations: violations})
	c, _ := wstest.Dial(t, url, nil)
	for i := range burst + violations {
		write(t, c, fmt.Sprintf(`{"kind":"message","pattern":"slow","payload":%d,"id":"s-%d"}`, i, i))
	}
	var responses, limited int
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var code websocket.StatusCode
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			code = websocket.CloseStatus(err)
			break
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Kind == "response":
			responses++
		case f.Error != nil && f.Error.Code == msregistry.CodeRateLimited:
			limited++
		default:
			t.Fatalf("unexpected frame %s", data)
		}
	}
	if code != websocket.StatusPolicyViolation {
		t.Fatalf("close %d, want 1008", code)
	}
	rec.wait(t, 1)
	if n := int(handled.Load()); responses != n || limited != violations-1 {
		t.Fatalf("%d requests were accepted and handled, %d were refused, but only %d replies and %d rate_limited errors arrived before the 1008",
			n, violations-1, responses, limited)
	}
}
