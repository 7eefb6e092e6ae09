package wsgateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

// writeUntilBlocked is a gateway that writes 64 KiB messages inline to a
// peer that never reads, until a write fails, and reports how long its
// longest write took: the one that blocked until the watchdog cut the
// socket.
type writeUntilBlocked struct {
	longest chan time.Duration
}

func (g *writeUntilBlocked) OnConnect(_ *wsgateway.Context, conn *wsgateway.Conn) error {
	payload := strings.Repeat("x", 64<<10)
	var longest time.Duration
	for {
		start := time.Now()
		err := conn.WriteText(payload)
		longest = max(longest, time.Since(start))
		if err != nil {
			g.longest <- longest
			return err
		}
	}
}

func TestStalledWriteIsCutWith1013AfterWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	g := &writeUntilBlocked{longest: make(chan time.Duration, 1)}
	rec := &recorder{Gateway: g}
	// A queue far larger than what the socket buffers hold: only the
	// watchdog can end this connection.
	_, url := startServer(t, rec, wsgateway.Config{OutboundQueue: 1 << 20, WriteTimeout: timeout})
	wstest.Dial(t, url, nil) // never reads

	st := rec.wait(t, 1)[0]
	if st.Code != wsgateway.StatusTryAgainLater || st.Reason != "write timeout" || !errors.Is(st.Cause, wsgateway.ErrSlowConsumer) {
		t.Fatalf("status %v cause %v, want 1013 write timeout", st, st.Cause)
	}
	// The write that stalled was cut once it had lasted WriteTimeout, not
	// before. (How much later depends on the machine; only the lower bound
	// is the watchdog's promise.)
	select {
	case d := <-g.longest:
		if d < timeout {
			t.Fatalf("the stalled write was cut after %s, before the %s write timeout", d, timeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway's write never returned")
	}
}

func TestBusyWriterToReadingPeerIsNeverCut(t *testing.T) {
	// A reader under load can hold one write up for a few hundred
	// milliseconds (loopback TCP's zero-window probes), so the timeout is
	// generous; the logic itself is in stall_internal_test.go.
	const timeout = time.Second
	stop := make(chan struct{})
	writer := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		// Writes go on for many write timeouts; each one completes.
		for {
			select {
			case <-stop:
				return conn.WriteText("end")
			default:
			}
			if err := conn.WriteText(strings.Repeat("y", 512)); err != nil {
				return err
			}
		}
	})
	rec := &recorder{Gateway: writer}
	_, url := startServer(t, rec, wsgateway.Config{WriteTimeout: timeout})
	c, _ := wstest.Dial(t, url, nil)
	c.SetReadLimit(-1)

	deadline := time.Now().Add(2 * timeout)
	for n := 0; ; n++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := c.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("read %d: %v; server side: %v", n, err, rec.wait(t, 1))
		}
		if string(data) == "end" {
			break
		}
		if time.Now().After(deadline) {
			select {
			case <-stop:
			default:
				close(stop)
			}
		}
	}
	if st := rec.wait(t, 1)[0]; st.Code != wsgateway.StatusNormalClosure {
		t.Fatalf("status %v cause %v, want 1000", st, st.Cause)
	}
}
