package wsgateway_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

func TestContextIsCancelledWhenThePeerLeaves(t *testing.T) {
	woke := make(chan error, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		go func() { _, _, _ = conn.Read(ctx) }() // the read loop sees the close
		<-ctx.Done()
		<-conn.Done()
		woke <- ctx.Err()
		return nil
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	c.Close(websocket.StatusNormalClosure, "bye")
	select {
	case err := <-woke:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ctx.Err() = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway's context was not cancelled when the peer closed")
	}
}

func TestHandlerContextIsCancelledWhenClientLeavesMidRequest(t *testing.T) {
	cancelled := make(chan struct{})
	started := make(chan struct{})
	reg := msregistry.New()
	err := msregistry.Message(reg, "wait", func(ctx context.Context, _ struct{}) (int, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return 0, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := startServer(t, registryGateway(reg), wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, `{"kind":"message","pattern":"wait","id":"1"}`)
	<-started
	c.CloseNow()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled when the client left")
	}
}

func TestHeartbeatTimeoutSendsCloseFrame1008ToAPeerThatStillReads(t *testing.T) {
	rec := &recorder{Gateway: echo}
	_, url := startServer(t, rec, wsgateway.Config{PingInterval: 20 * time.Millisecond, PongTimeout: 50 * time.Millisecond})
	// This client reads but never answers pings.
	c, _ := wstest.Dial(t, url, &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool { return false }})
	if code := closeCode(t, c); code != websocket.StatusPolicyViolation {
		t.Fatalf("client saw %d, want 1008", code)
	}
	if st := rec.wait(t, 1)[0]; !errors.Is(st.Cause, wsgateway.ErrHeartbeatTimeout) {
		t.Fatalf("cause %v", st.Cause)
	}
}

func TestWritesAfterTheConnectionEndedFail(t *testing.T) {
	got := make(chan error, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		_, _, err := conn.Read(ctx)
		got <- conn.WriteText("too late")
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	c.CloseNow()
	if err := <-got; !errors.Is(err, wsgateway.ErrClosed) {
		t.Fatalf("write after the peer left: %v, want ErrClosed", err)
	}
}

func TestGatewayReturningErrRateLimitedClosesWith1008(t *testing.T) {
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return err // a naive loop: returns on the first over-rate message
			}
		}
	})
	_, url := startServer(t, gw, wsgateway.Config{MessageRate: 0.001, MessageBurst: 1})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, "one")
	write(t, c, "two")
	if code := closeCode(t, c); code != websocket.StatusPolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
}

func TestWritesReachThePeerAfterTheGatewayStopsReading(t *testing.T) {
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if _, _, err := conn.Read(ctx); err != nil { // one subscribe message...
			return err
		}
		for i := range 5 { // ...then only pushes, from another goroutine
			go conn.WriteText(fmt.Sprint("push ", i))
			time.Sleep(20 * time.Millisecond)
		}
		<-ctx.Done()
		return nil
	})
	_, url := startServer(t, gw, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	write(t, c, "subscribe")
	start := time.Now()
	for range 5 {
		wstest.ReadText(t, c)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pushes took %s", d)
	}
	c.CloseNow() // the gateway no longer reads, so it cannot answer a close handshake
}

func TestReadWithCancelledContextIsRecordedAsAbnormalNotProtocolError(t *testing.T) {
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		rctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := conn.Read(rctx)
		return err
	})
	rec := &recorder{Gateway: gw}
	_, url := startServer(t, rec, wsgateway.Config{})
	c, _ := wstest.Dial(t, url, nil)
	st := rec.wait(t, 1)[0]
	if st.Code != websocket.StatusAbnormalClosure {
		t.Fatalf("status %v (cause %v), want 1006", st, st.Cause)
	}
	c.CloseNow()
}
