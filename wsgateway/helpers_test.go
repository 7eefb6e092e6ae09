package wsgateway_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/wsgateway"
)

// startServer serves gw with cfg on a real loopback socket and shuts it
// down when the test ends.
func startServer(t testing.TB, gw wsgateway.Gateway, cfg wsgateway.Config) (*wsgateway.Server, string) {
	t.Helper()
	srv := wsgateway.NewServer(gw, cfg)
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + srv.Path()
}

// closeCode reads until the connection ends and returns the close code the
// server sent, or -1 when none came.
func closeCode(t testing.TB, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// echoLoop is a gateway that echoes every message back.
var echoLoop = wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if err := conn.Write(typ, data); err != nil {
			return err
		}
	}
})

// echo is a gateway that greets with the request id, then echoes.
var echo = wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
		return err
	}
	return echoLoop(ctx, conn)
})

func write(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawHandshake sends a hand-written upgrade request with extra header lines
// over a plain TCP connection and returns the parsed response; the
// connection is closed when the test ends.
func rawHandshake(t testing.TB, wsURL string, extra ...string) (*http.Response, net.Conn) {
	t.Helper()
	u, err := neturl.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	return resp, nc
}
