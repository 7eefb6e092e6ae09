package wsgateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// recorder is a gateway wrapper that records every OnDisconnect.
type recorder struct {
	wsgateway.Gateway
	mu       sync.Mutex
	statuses []wsgateway.CloseStatus
}

func (r *recorder) OnDisconnect(_ *wsgateway.Context, s wsgateway.CloseStatus) {
	r.mu.Lock()
	r.statuses = append(r.statuses, s)
	r.mu.Unlock()
}

func (r *recorder) wait(t *testing.T, n int) []wsgateway.CloseStatus {
	t.Helper()
	eventually(t, "OnDisconnect", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.statuses) >= n
	})
	time.Sleep(20 * time.Millisecond) // a second call would show up now
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.statuses) != n {
		t.Fatalf("OnDisconnect called %d times, want %d", len(r.statuses), n)
	}
	return append([]wsgateway.CloseStatus(nil), r.statuses...)
}

func TestHeartbeatClosesPeerThatDoesNotAnswer(t *testing.T) {
	rec := &recorder{Gateway: echo}
	srv, url := startServer(t, rec, wsgateway.Config{PingInterval: 30 * time.Millisecond, PongTimeout: 60 * time.Millisecond})
	wstest.Dial(t, url, nil) // never reads, so never answers a ping
	st := rec.wait(t, 1)[0]
	if !errors.Is(st.Cause, wsgateway.ErrHeartbeatTimeout) || st.Code != wsgateway.StatusPolicyViolation {
		t.Fatalf("status %v cause %v", st, st.Cause)
	}
	eventually(t, "connection removed", func() bool { return srv.Len() == 0 })
}

func TestHeartbeatKeepsAnsweringPeerOpen(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{PingInterval: 10 * time.Millisecond, PongTimeout: 50 * time.Millisecond})
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
	for i := range 20 {
		write(t, c, "still here")
		if got := wstest.ReadText(t, c); got != "still here" {
			t.Fatalf("round %d: %q", i, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestOversizeMessageClosesWith1009(t *testing.T) {
	rec := &recorder{Gateway: echo}
	_, url := startServer(t, rec, wsgateway.Config{ReadLimit: 1024})
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
	write(t, c, strings.Repeat("a", 1024)) // at the limit: fine
	wstest.ReadText(t, c)
	_ = c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("a", 1025)))
	if code := closeCode(t, c); code != websocket.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	if st := rec.wait(t, 1)[0]; st.Code != websocket.StatusMessageTooBig {
		t.Fatalf("server status %v", st)
	}
}

func TestInvalidUTF8ClosesWith1007(t *testing.T) {
	rec := &recorder{Gateway: echo}
	_, url := startServer(t, rec, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
	_ = c.Write(context.Background(), websocket.MessageText, []byte{'o', 'k', 0xff, 0xfe})
	if code := closeCode(t, c); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("close code %d, want 1007", code)
	}
	if st := rec.wait(t, 1)[0]; !errors.Is(st.Cause, wsgateway.ErrInvalidUTF8) {
		t.Fatalf("cause %v", st.Cause)
	}
}

func TestBinaryMessagesAreNotUTF8Checked(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
	_ = c.Write(context.Background(), websocket.MessageBinary, []byte{0xff, 0xfe})
	_, data, err := c.Read(context.Background())
	if err != nil || string(data) != "\xff\xfe" {
		t.Fatalf("echo %q, %v", data, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestMaxConnectionsRefusesWith503BeforeUpgrade(t *testing.T) {
	srv, url := startServer(t, echo, wsgateway.Config{MaxConnections: 2})
	a, _ := wstest.Dial(t, url, nil)
	b, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, a)
	wstest.ReadText(t, b)
	resp, body := refusal(t, upgradeRequest(t, url))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.Message, "connection limit") {
		t.Fatalf("third connection: %d %+v", resp.StatusCode, body)
	}
	a.Close(websocket.StatusNormalClosure, "")
	eventually(t, "slot freed", func() bool { return srv.Len() == 1 })
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
}

// registryGateway greets and serves reg.
func registryGateway(reg *msregistry.Registry) wsgateway.Gateway {
	return wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		return wsgateway.Serve(ctx, conn, reg)
	})
}

type frame struct {
	Kind    string          `json:"kind"`
	Pattern string          `json:"pattern"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
	Error   *struct{ Code, Message string }
}

func readFrame(t testing.TB, c *websocket.Conn) frame {
	t.Helper()
	var f frame
	if err := json.Unmarshal([]byte(wstest.ReadText(t, c)), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func echoRegistry(t testing.TB) *msregistry.Registry {
	reg := msregistry.New()
	err := msregistry.Message(reg, "echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestMessageRateGivesErrorFramesThen1008(t *testing.T) {
	rec := &recorder{Gateway: registryGateway(echoRegistry(t))}
	_, url := startServer(t, rec, wsgateway.Config{MessageRate: 0.001, MessageBurst: 1, RateViolations: 3})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, `{"kind":"message","pattern":"echo","payload":1,"id":"a"}`)
	if f := readFrame(t, c); f.Kind != "response" || f.ID != "a" {
		t.Fatalf("first frame: %+v", f)
	}
	for _, id := range []string{"b", "c"} {
		write(t, c, `{"kind":"message","pattern":"echo","payload":1,"id":"`+id+`"}`)
		if f := readFrame(t, c); f.Kind != "error" || f.ID != id || f.Error.Code != msregistry.CodeRateLimited {
			t.Fatalf("frame %s: %+v", id, f)
		}
	}
	write(t, c, `{"kind":"message","pattern":"echo","payload":1,"id":"d"}`)
	if code := closeCode(t, c); code != websocket.StatusPolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	if st := rec.wait(t, 1)[0]; !errors.Is(st.Cause, wsgateway.ErrRateLimited) {
		t.Fatalf("cause %v", st.Cause)
	}
}

// broadcaster is a gateway that keeps every connection in a list, so a test
// can write to all of them from one goroutine.
type broadcaster struct {
	mu    sync.Mutex
	conns []*wsgateway.Conn
}

func (b *broadcaster) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	b.mu.Lock()
	b.conns = append(b.conns, conn)
	b.mu.Unlock()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			return err
		}
	}
}

func (b *broadcaster) list() []*wsgateway.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*wsgateway.Conn(nil), b.conns...)
}

func TestSlowConsumerIsClosedWith1013WhileOthersReceive(t *testing.T) {
	b := &broadcaster{}
	rec := &recorder{Gateway: b}
	_, url := startServer(t, rec, wsgateway.Config{OutboundQueue: 8, WriteTimeout: 500 * time.Millisecond})
	slow, _ := wstest.Dial(t, url, nil)
	fast, _ := wstest.Dial(t, url, nil)
	fast.SetReadLimit(-1)
	eventually(t, "both connected", func() bool { return len(b.list()) == 2 })

	// The fast client acknowledges each message through received, so it
	// never falls behind; the slow one never reads.
	const n = 400
	received := make(chan struct{})
	go func() {
		defer close(received)
		for {
			if _, _, err := fast.Read(context.Background()); err != nil {
				return
			}
			received <- struct{}{}
		}
	}()
	payload := strings.Repeat("x", 64<<10)
	var slowErr error
	for i := 0; i < n; i++ {
		for _, c := range b.list() {
			start := time.Now()
			err := c.WriteText(payload)
			if d := time.Since(start); d > time.Second {
				t.Fatalf("a write blocked the sender for %s", d)
			}
			if err != nil && slowErr == nil {
				slowErr = err
			}
		}
		select {
		case <-received:
		case <-time.After(5 * time.Second):
			t.Fatalf("fast client stalled at message %d", i)
		}
	}
	if !errors.Is(slowErr, wsgateway.ErrSlowConsumer) && !errors.Is(slowErr, wsgateway.ErrClosed) {
		t.Fatalf("writes to the slow client never failed: %v", slowErr)
	}
	st := rec.wait(t, 1)[0]
	if st.Code != wsgateway.StatusTryAgainLater || !errors.Is(st.Cause, wsgateway.ErrSlowConsumer) {
		t.Fatalf("slow client status %v cause %v", st, st.Cause)
	}
	_ = slow
	fast.Close(websocket.StatusNormalClosure, "")
	<-received
}

func TestHandshakeTokenFromQueryAndSubprotocolNeverLogged(t *testing.T) {
	const token = "tok-very-secret-123"
	verify := func(_ context.Context, tok string) (*identity.Identity, error) {
		if tok == token {
			return &identity.Identity{Subject: "ada"}, nil
		}
		return nil, errors.New("unknown token")
	}
	core, logs := observer.New(zap.DebugLevel)
	whoami := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		ctx.Logger().Info("connected", zap.String("url", ctx.Header().Get("Origin")))
		if err := conn.WriteText(ctx.Identity().Subject + "|" + conn.Subprotocol()); err != nil {
			return err
		}
		_, _, err := conn.Read(ctx)
		return err
	})
	_, url := startServer(t, whoami, wsgateway.Config{
		Logger:        zap.New(core),
		Subprotocols:  []string{"fxforge.v1"},
		Authenticator: identity.Bearer(verify, identity.TokenFromQuery("access_token"), identity.TokenFromSubprotocol("bearer")),
		Guards:        []identity.Guard{identity.Authenticated()},
	})

	q, _ := wstest.Dial(t, url+"?access_token="+token, nil)
	if got := wstest.ReadText(t, q); got != "ada|" {
		t.Fatalf("query token: %q", got)
	}
	sp, _ := wstest.Dial(t, url, &websocket.DialOptions{Subprotocols: []string{"bearer", token}})
	if got := wstest.ReadText(t, sp); got != "ada|bearer" {
		t.Fatalf("subprotocol token: %q", got)
	}
	both, _ := wstest.Dial(t, url, &websocket.DialOptions{Subprotocols: []string{"fxforge.v1", "bearer", token}})
	if got := wstest.ReadText(t, both); got != "ada|fxforge.v1" {
		t.Fatalf("app subprotocol preferred: %q", got)
	}
	resp, _ := refusal(t, upgradeRequest(t, url+"?access_token=wrong-"+token))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	for _, c := range []*websocket.Conn{q, sp, both} {
		c.Close(websocket.StatusNormalClosure, "")
	}
	time.Sleep(50 * time.Millisecond)
	for _, e := range logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		if strings.Contains(e.Message+string(line), token) {
			t.Fatalf("token in log line %q %s", e.Message, line)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("no logs captured; the check above proves nothing")
	}
}

func TestOnDisconnectOnceWithStatusAndCause(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		gw       wsgateway.GatewayFunc
		client   func(*websocket.Conn)
		code     websocket.StatusCode
		byPeer   bool
		causeIs  error
		clientCd websocket.StatusCode
	}{
		{
			name:   "peer closes",
			gw:     echo,
			client: func(c *websocket.Conn) { c.Close(websocket.StatusNormalClosure, "bye") },
			code:   websocket.StatusNormalClosure, byPeer: true, clientCd: -2,
		},
		{
			name:     "gateway returns nil",
			gw:       func(*wsgateway.Context, *wsgateway.Conn) error { return nil },
			code:     websocket.StatusNormalClosure,
			clientCd: websocket.StatusNormalClosure,
		},
		{
			name:     "gateway returns an error",
			gw:       func(*wsgateway.Context, *wsgateway.Conn) error { return boom },
			code:     websocket.StatusInternalError,
			causeIs:  boom,
			clientCd: websocket.StatusInternalError,
		},
		{
			name:     "gateway panics",
			gw:       func(*wsgateway.Context, *wsgateway.Conn) error { panic("kaboom") },
			code:     websocket.StatusInternalError,
			causeIs:  wsgateway.ErrGatewayPanic,
			clientCd: websocket.StatusInternalError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{Gateway: tt.gw}
			_, url := startServer(t, rec, wsgateway.Config{})
			c, _ := wstest.Dial(t, url, nil)
			if tt.client != nil {
				wstest.ReadText(t, c)
				tt.client(c)
			}
			if tt.clientCd != -2 {
				if code := closeCode(t, c); code != tt.clientCd {
					t.Fatalf("client saw %d, want %d", code, tt.clientCd)
				}
			}
			st := rec.wait(t, 1)[0]
			if st.Code != tt.code || st.ByPeer != tt.byPeer {
				t.Fatalf("status %v, want code %d byPeer %v", st, tt.code, tt.byPeer)
			}
			if tt.causeIs != nil && !errors.Is(st.Cause, tt.causeIs) {
				t.Fatalf("cause %v, want %v", st.Cause, tt.causeIs)
			}
		})
	}
}

func TestGatewayPanicLeavesOtherConnectionsServing(t *testing.T) {
	var n atomic.Int32
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if n.Add(1) == 2 {
			panic("second connection explodes")
		}
		return echo(ctx, conn)
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	a, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, a)
	b, _ := wstest.Dial(t, url, nil)
	if code := closeCode(t, b); code != websocket.StatusInternalError {
		t.Fatalf("panicking connection closed with %d", code)
	}
	write(t, a, "still fine")
	if got := wstest.ReadText(t, a); got != "still fine" {
		t.Fatalf("other connection: %q", got)
	}
	c, _ := wstest.Dial(t, url, nil)
	wstest.ReadText(t, c)
	a.Close(websocket.StatusNormalClosure, "")
	c.Close(websocket.StatusNormalClosure, "")
}

func TestShutdownDeliversInFlightRepliesThenCloses1001(t *testing.T) {
	reg := msregistry.New()
	started := make(chan struct{}, 10)
	err := msregistry.Message(reg, "slow", func(_ context.Context, in int) (int, error) {
		started <- struct{}{}
		time.Sleep(200 * time.Millisecond)
		return in * 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, url := startServer(t, registryGateway(reg), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	for i := range 3 {
		write(t, c, `{"kind":"message","pattern":"slow","payload":`+string(rune('1'+i))+`,"id":"r`+string(rune('1'+i))+`"}`)
	}
	for range 3 {
		<-started
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()

	eventually(t, "draining", func() bool {
		resp, err := http.DefaultClient.Do(upgradeRequest(t, url))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	seen := map[string]string{}
	for range 3 {
		f := readFrame(t, c)
		seen[f.ID] = string(f.Payload)
	}
	if seen["r1"] != "2" || seen["r2"] != "4" || seen["r3"] != "6" {
		t.Fatalf("replies %v", seen)
	}
	if code := closeCode(t, c); code != websocket.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownDeadlineForceClosesAndCancelsContext(t *testing.T) {
	cancelled := make(chan struct{})
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		go func() { _, _, _ = conn.Read(ctx) }()
		<-ctx.Done() // ignores the 1001 request, waits for its context
		close(cancelled)
		return nil
	})
	srv, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	_ = c // never reads: the close handshake cannot complete
	eventually(t, "connected", func() bool { return srv.Len() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("gateway context was not cancelled")
	}
}
