package wsgateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// The benchmarks in this file run over a real loopback socket, with a
// coder/websocket client in the same process. Each fxforge benchmark has a
// raw coder/websocket baseline beside it (BenchmarkRaw...) doing the same
// work without fxforge; compare them with benchstat. Allocation counts are
// for the whole process, client included: the client is the same on both
// sides, so the difference is the server's.

var (
	benchPayload      = bytes.Repeat([]byte{'x'}, 64)
	benchAppInfoFrame = []byte(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"1"}`)
	benchAppInfoReply = []byte(`{"kind":"response","pattern":"app.info","id":"1","payload":{"app_name":"bench","transport":"websocket"},"metadata":{}}`)
)

// benchGatewayServer serves gw on a loopback server that is shut down when
// the benchmark ends.
func benchGatewayServer(b *testing.B, gw wsgateway.Gateway, cfg wsgateway.Config) string {
	b.Helper()
	_, url := startServer(b, gw, cfg)
	return url
}

// benchRawServer serves a raw coder/websocket handler on a loopback
// httptest server. handle runs on the accepted connection; the server
// waits for every handler when the benchmark ends.
func benchRawServer(b *testing.B, handle func(c *websocket.Conn)) string {
	b.Helper()
	var wg sync.WaitGroup
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		handle(c)
	}))
	b.Cleanup(func() {
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// benchDial opens a client connection, closed when the benchmark ends
// (before the server, which registered its clean-up first).
func benchDial(b *testing.B, url string) *websocket.Conn {
	c, _ := wstest.Dial(b, url, nil)
	return c
}

// rawEcho is the baseline echo: coder/websocket Read and Write with no
// per-call timer.
func rawEcho(c *websocket.Conn) {
	ctx := context.Background()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return
		}
	}
}

// roundTrips sends msg and reads one reply per iteration.
func roundTrips(b *testing.B, c *websocket.Conn, msg []byte, replyLen int) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		_, data, err := c.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(data) != replyLen {
			b.Fatalf("reply of %d bytes, want %d: %q", len(data), replyLen, data)
		}
	}
}

// BenchmarkEchoRoundTrip is one 64-byte message to an fxforge gateway that
// echoes it with conn.Read and conn.Write, and back.
func BenchmarkEchoRoundTrip(b *testing.B) {
	url := benchGatewayServer(b, echoLoop, wsgateway.Config{PingInterval: -1})
	roundTrips(b, benchDial(b, url), benchPayload, len(benchPayload))
}

// BenchmarkRawEchoRoundTrip is BenchmarkEchoRoundTrip's baseline: a raw
// coder/websocket echo server.
func BenchmarkRawEchoRoundTrip(b *testing.B) {
	url := benchRawServer(b, rawEcho)
	roundTrips(b, benchDial(b, url), benchPayload, len(benchPayload))
}

type benchAppConfig struct{ name string }

type benchAppInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
}

// benchAppInfoGateway is examples/hello-websockets without fx: a greeting,
// then wsgateway.Serve with an app.info handler that resolves its config.
func benchAppInfoGateway(b *testing.B) (wsgateway.Gateway, *msregistry.Resolver) {
	res := msregistry.NewResolver()
	msregistry.Register(res, &benchAppConfig{name: "bench"})
	reg := msregistry.New()
	err := msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (benchAppInfo, error) {
		cfg, err := msregistry.Resolve[*benchAppConfig](ctx)
		if err != nil {
			return benchAppInfo{}, err
		}
		call, _ := msregistry.CallFrom(ctx)
		return benchAppInfo{AppName: cfg.name, Transport: call.Transport}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
			return err
		}
		return wsgateway.Serve(ctx, conn, reg)
	})
	return gw, res
}

// BenchmarkServeAppInfo is one app.info message frame through
// wsgateway.Serve and msregistry, and its response frame back.
func BenchmarkServeAppInfo(b *testing.B) {
	gw, res := benchAppInfoGateway(b)
	url := benchGatewayServer(b, gw, wsgateway.Config{PingInterval: -1, Resolver: res})
	c := benchDial(b, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, greeting, err := c.Read(ctx)
	cancel()
	if err != nil || !bytes.HasPrefix(greeting, []byte("connected:")) {
		b.Fatalf("greeting %q, %v", greeting, err)
	}
	// Check the reply once, then measure.
	if err := c.Write(context.Background(), websocket.MessageText, benchAppInfoFrame); err != nil {
		b.Fatal(err)
	}
	if _, reply, err := c.Read(context.Background()); err != nil || !bytes.Equal(reply, benchAppInfoReply) {
		b.Fatalf("reply %s, %v; want %s", reply, err, benchAppInfoReply)
	}
	roundTrips(b, c, benchAppInfoFrame, len(benchAppInfoReply))
}

// BenchmarkRawEchoAppInfoFrame is BenchmarkServeAppInfo's baseline: the raw
// echo server echoing the same request frame.
func BenchmarkRawEchoAppInfoFrame(b *testing.B) {
	url := benchRawServer(b, rawEcho)
	roundTrips(b, benchDial(b, url), benchAppInfoFrame, len(benchAppInfoFrame))
}

// Write-path benchmarks keep at most writeWindow messages in flight, well
// under the outbound queue, so the peer never counts as slow.
const (
	writeWindow = 512
	writeQueue  = 4096
)

// drainClient reads and discards messages on c, counting them, until c
// closes; the benchmark waits for it when it ends.
func drainClient(b *testing.B, c *websocket.Conn) *atomic.Int64 {
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, r, err := c.Reader(context.Background())
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	b.Cleanup(func() {
		_ = c.CloseNow()
		<-done
	})
	return &got
}

// writes calls write once per iteration and lets the client fall at most
// writeWindow messages behind.
func writes(b *testing.B, got *atomic.Int64, write func() error) {
	b.Helper()
	wait := func(n int64) {
		deadline := time.Now().Add(10 * time.Second)
		for got.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("client received %d of %d messages in 10s", got.Load(), n)
			}
			runtime.Gosched()
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	var sent int64
	for b.Loop() {
		if err := write(); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent%(writeWindow/2) == 0 {
			wait(sent - writeWindow/2)
		}
	}
	wait(sent)
}

// BenchmarkConnWrite is Conn.Write, the queued write path: enqueue, the
// writer goroutine, the socket write, up to delivery to the client.
func BenchmarkConnWrite(b *testing.B) {
	conns := make(chan *wsgateway.Conn, 1)
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		conns <- conn
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return err
			}
		}
	})
	url := benchGatewayServer(b, gw, wsgateway.Config{PingInterval: -1, OutboundQueue: writeQueue})
	got := drainClient(b, benchDial(b, url))
	conn := <-conns
	writes(b, got, func() error { return conn.Write(wsgateway.MessageText, benchPayload) })
}

// BenchmarkRawConnWrite is BenchmarkConnWrite's baseline: a synchronous
// coder/websocket Write from the benchmark goroutine.
func BenchmarkRawConnWrite(b *testing.B) {
	conns := make(chan *websocket.Conn, 1)
	url := benchRawServer(b, func(c *websocket.Conn) {
		conns <- c
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	})
	got := drainClient(b, benchDial(b, url))
	ws := <-conns
	ctx := context.Background()
	writes(b, got, func() error { return ws.Write(ctx, websocket.MessageText, benchPayload) })
}
