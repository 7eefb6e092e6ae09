package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
)

// Server kinds. The first four run as "wsbench server -kind=KIND"; the
// hello example's builds run as their own binaries.
const (
	kindRaw        = "raw"               // coder/websocket echo, no fxforge code
	kindEcho       = "fxforge-echo"      // fx app: a gateway that echoes with conn.Read/conn.Write
	kindRawFanout  = "raw-fanout"        // coder/websocket broadcast loop over a slice of connections
	kindFanout     = "fxforge-fanout"    // fx app: every connection in one Hub room, hub.Send to the room
	kindHello      = "hello-websockets"  // the examples/hello-websockets program, built by wsbench (or -hello)
	kindMetricsOn  = "hello-metrics-on"  // the same, always built from this tree: metrics on, as it ships
	kindMetricsOff = "hello-metrics-off" // its main.go without fxmetrics.Module, built with go build -overlay
)

// isExample reports whether kind is a build of the hello example rather
// than a "wsbench server" kind.
func isExample(kind string) bool {
	return kind == kindHello || kind == kindMetricsOn || kind == kindMetricsOff
}

// serverMain runs "wsbench server": one WebSocket server of the given kind
// at addr, path /ws, until SIGTERM or SIGINT.
func serverMain(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsbench server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", kindRaw, "server kind: "+kindRaw+", "+kindEcho+", "+kindRawFanout+" or "+kindFanout)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole life to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var run func() error
	switch *kind {
	case kindRaw:
		run = func() error { return serveRaw(*addr, http.HandlerFunc(rawEcho)) }
	case kindRawFanout:
		run = func() error { return serveRaw(*addr, &rawBroadcast{}) }
	case kindEcho:
		run = func() error { return runApp(echoApp(*addr)) }
	case kindFanout:
		run = func() error { return runApp(fanoutApp(*addr)) }
	default:
		return fmt.Errorf("unknown server kind %q; want %s, %s, %s or %s", *kind, kindRaw, kindEcho, kindRawFanout, kindFanout)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	return run()
}

// runApp runs an fx app as a user's main does, with Run: it starts, waits
// for SIGTERM or SIGINT, and stops.
func runApp(opts fx.Option) error {
	app := fx.New(opts)
	if err := app.Err(); err != nil {
		return err
	}
	app.Run()
	return nil
}

// serveRaw serves h at /ws on addr with plain net/http until SIGTERM or
// SIGINT.
func serveRaw(addr string, h http.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		// Hijacked WebSocket connections are not closed by Close; the
		// process exits right after.
		return hs.Close()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// rawEcho is the baseline: a plain coder/websocket echo server, written the
// way its documentation suggests, with no fxforge code. It reads and writes
// with context.Background() (no per-call timer), the cheapest raw use.
func rawEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
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
