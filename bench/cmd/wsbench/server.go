package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Server kinds, as given to "wsbench server -kind".
const (
	kindRaw     = "raw"             // coder/websocket echo, no fxforge code
	kindEcho    = "fxforge-echo"    // wsgateway.Server, gateway echoes with conn.Read/conn.Write
	kindAppInfo = "fxforge-appinfo" // wsgateway.Server, greeting then wsgateway.Serve + msregistry
)

// benchPingInterval is the fxforge servers' heartbeat interval: long enough
// that no ping fires during a run, while every connection still carries its
// heartbeat timer (so idle memory includes it).
const benchPingInterval = 10 * time.Minute

// readyPrefix starts the line the server prints on stdout once it listens.
const readyPrefix = "wsbench-ready"

// serverMain runs "wsbench server": one WebSocket server of the given kind,
// and a debug endpoint that reports memory. It exits when stdin reaches EOF
// (the load generator closes it, or dies).
func serverMain(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("wsbench server", flag.ContinueOnError)
	kind := fs.String("kind", kindRaw, "server kind: "+kindRaw+", "+kindEcho+" or "+kindAppInfo)
	addr := fs.String("addr", "127.0.0.1:0", "WebSocket listen address (loopback)")
	debugAddr := fs.String("debug-addr", "127.0.0.1:0", "debug endpoint listen address (loopback): GET /mem")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the server's whole life to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raiseOpenFiles()

	var ws http.Handler
	switch *kind {
	case kindRaw:
		ws = http.HandlerFunc(rawEcho)
	case kindEcho:
		ws = wsgateway.NewServer(echoGateway, wsgateway.Config{Path: "/ws", PingInterval: benchPingInterval})
	case kindAppInfo:
		h, err := appInfoServer()
		if err != nil {
			return err
		}
		ws = h
	default:
		return fmt.Errorf("unknown server kind %q", *kind)
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

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	dln, err := net.Listen("tcp", *debugAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", ws)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ds := &http.Server{Handler: http.HandlerFunc(serveMem), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() { _ = ds.Serve(dln) }()
	fmt.Fprintf(stdout, "%s ws=ws://%s/ws debug=http://%s/mem pid=%d\n", readyPrefix, ln.Addr(), dln.Addr(), os.Getpid())

	// Wait for EOF on stdin: the load generator is done with this server.
	_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
	_ = ln.Close()
	_ = dln.Close()
	return nil
}

// rawEcho is the baseline: a plain coder/websocket echo server, written the
// way its documentation suggests, with no fxforge code. It reads and writes
// with context.Background() (no per-call timer), the cheapest raw use.
func rawEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
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

// echoGateway echoes every message through the queued Conn write path.
var echoGateway = wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
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

// appConfig, appInfo and the gateway below mirror examples/hello-websockets
// without fx: the same handler, resolution and frames.
type appConfig struct{ AppName string }

type appInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
	Pings     int64  `json:"pings"`
}

type appInfoGateway struct{ reg *msregistry.Registry }

func (g *appInfoGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if _, err := wsgateway.Resolve[*appConfig](ctx); err != nil {
		return err
	}
	if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
		return err
	}
	return wsgateway.Serve(ctx, conn, g.reg)
}

// appInfoServer builds the app.info gateway the way a user without fx would:
// a resolver, a registry, wsgateway.NewServer.
func appInfoServer() (*wsgateway.Server, error) {
	res := msregistry.NewResolver()
	msregistry.Register(res, &appConfig{AppName: "fxforge"})
	reg := msregistry.New(msregistry.WithResolver(res))
	var pings atomic.Int64
	err := msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (appInfo, error) {
		cfg, err := msregistry.Resolve[*appConfig](ctx)
		if err != nil {
			return appInfo{}, err
		}
		call, _ := msregistry.CallFrom(ctx)
		return appInfo{AppName: cfg.AppName, Transport: call.Transport, Pings: pings.Load()}, nil
	})
	if err != nil {
		return nil, err
	}
	err = msregistry.Event(reg, "app.ping", func(context.Context, any) error {
		pings.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wsgateway.NewServer(&appInfoGateway{reg: reg}, wsgateway.Config{
		Path: "/ws", PingInterval: benchPingInterval, Resolver: res,
	}), nil
}

// memStats is the debug endpoint's answer.
type memStats struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	HeapAlloc  uint64 `json:"heap_alloc"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	Goroutines int    `json:"goroutines"`
}

// serveMem answers GET /mem with runtime.MemStats; with ?gc=1 it first runs
// debug.FreeOSMemory (a forced GC that also returns free pages to the OS,
// so VmRSS reflects live memory).
func serveMem(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/mem" {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("gc") == "1" {
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(memStats{
		HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse,
		Sys: ms.Sys, Goroutines: runtime.NumGoroutine(),
	})
}

// fetchMem asks a server's debug endpoint for its memory, after a GC.
func fetchMem(ctx context.Context, url string) (memStats, error) {
	var ms memStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?gc=1", nil)
	if err != nil {
		return ms, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ms, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ms, errors.New("debug endpoint: " + resp.Status)
	}
	return ms, json.NewDecoder(resp.Body).Decode(&ms)
}
