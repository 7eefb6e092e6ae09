// Command wsbench is fxforge's WebSocket load harness. It measures an
// fxforge gateway and a raw coder/websocket echo server (the baseline, no
// fxforge code) in turn, on the same machine, and prints every figure with
// its ratio to the baseline:
//
//	go run ./bench/cmd/wsbench -runs=5 -duration=5s
//
// The servers run as separate processes (this binary re-executed as
// "wsbench server -kind=raw|fxforge-echo|fxforge-appinfo"), pinned with
// taskset to core 0 while the load generator runs on core 1, so the two do
// not compete for CPU. The load generator speaks gorilla/websocket, a client
// implementation other than the server's, over loopback only, spreading its
// source addresses over 127.0.0.1..127.0.0.N.
//
// Modes (-mode):
//
//   - rtt: -conns connections each send a -size byte frame and wait for the
//     reply, for -duration after a -warmup. Two comparisons: a gateway that
//     echoes with conn.Read/conn.Write against the raw echo server, and
//     app.info microservice frames through wsgateway.Serve and msregistry
//     against the raw echo server echoing the same request frame. Figures:
//     round trips per second, p50/p99 latency, and the server's CPU time
//     (user+system from /proc/PID/stat) per round trip over the window.
//   - idle: -idle-conns connections are opened and left silent; figures are
//     the server's VmRSS and Go heap growth per connection, each measured
//     after a forced GC.
//   - all: rtt, then idle.
//   - fanout: reserved for N subscribers and one publisher; it arrives with
//     rooms and broadcast and is not implemented yet.
//
// With -runs=N every measurement is repeated N times; the table shows the
// median of each figure and the median of the per-run ratios.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// Environment variables between the processes of one invocation.
const (
	envChild  = "WSBENCH_CHILD"  // set in server processes
	envPinned = "WSBENCH_PINNED" // set once the load generator runs under taskset
)

// Modes.
const (
	modeRTT    = "rtt"
	modeIdle   = "idle"
	modeAll    = "all"
	modeFanout = "fanout" // extension point: N subscribers, one publisher
)

// options are the command-line flags of the load generator.
type options struct {
	mode       string
	conns      int
	duration   time.Duration
	warmup     time.Duration
	size       int
	idleConns  int
	runs       int
	srcAddrs   int
	pin        bool
	profileDir string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", modeAll, "what to measure: rtt (round trips), idle (memory per idle connection), all; "+
		"fanout (N subscribers, one publisher) is reserved and arrives with rooms and broadcast")
	fs.IntVar(&o.conns, "conns", 50, "connections in rtt mode")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window of each rtt run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each rtt window")
	fs.IntVar(&o.size, "size", 64, "frame size in bytes of the echo round trips (app.info frames are fixed)")
	fs.IntVar(&o.idleConns, "idle-conns", 10000, "connections held open in idle mode")
	fs.IntVar(&o.runs, "runs", 5, "repetitions; the table reports medians")
	fs.IntVar(&o.srcAddrs, "src-addrs", 16, "loopback source addresses to spread connections over (127.0.0.1..127.0.0.N)")
	fs.BoolVar(&o.pin, "pin", true, "pin the server to core 0 and the load generator to core 1 with taskset")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write a CPU profile of every server process to this directory")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.mode == modeFanout:
		return o, errors.New("-mode=fanout (N subscribers, one publisher) is not implemented yet: it arrives with wsgateway rooms and broadcast")
	case o.mode != modeRTT && o.mode != modeIdle && o.mode != modeAll:
		return o, fmt.Errorf("-mode=%q: want rtt, idle or all", o.mode)
	case o.conns < 1 || o.conns > 10000:
		return o, fmt.Errorf("-conns=%d: want 1..10000", o.conns)
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, fmt.Errorf("-duration=%s: want (0, 10m]", o.duration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return o, fmt.Errorf("-warmup=%s: want [0, 1m]", o.warmup)
	case o.size < 1 || o.size > 32<<10:
		return o, fmt.Errorf("-size=%d: want 1..32768 (the gateway's default read limit)", o.size)
	case o.idleConns < 1 || o.idleConns > 100000:
		return o, fmt.Errorf("-idle-conns=%d: want 1..100000", o.idleConns)
	case o.runs < 1 || o.runs > 100:
		return o, fmt.Errorf("-runs=%d: want 1..100", o.runs)
	}
	return o, nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		if err := serverMain(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "wsbench server:", err)
			os.Exit(1)
		}
		return
	}
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wsbench:", err)
		}
		os.Exit(2)
	}
	pin := choosePinning(o.pin, os.Stderr)
	if pin.taskset != "" && os.Getenv(envPinned) == "" {
		os.Exit(reexecPinned(pin))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, pin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

// reexecPinned runs this command again under "taskset -c <load core>" and
// returns its exit code.
func reexecPinned(p pinning) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		return 1
	}
	cmd := p.command(p.load, exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), envPinned+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(os.Interrupt) // the child gets it from the terminal too
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		return 1
	}
	return 0
}

// run measures what o asks for and writes the report to stdout; progress
// goes to stderr.
func run(ctx context.Context, o options, pin pinning, stdout, stderr io.Writer) error {
	nofile := raiseOpenFiles()
	if o.mode != modeRTT && uint64(o.idleConns)+256 > nofile {
		return fmt.Errorf("-idle-conns=%d needs more open files than the limit %d allows", o.idleConns, nofile)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	clk := clockTicks()
	ld := newLoadDialer(o.srcAddrs)
	writeHeader(stdout, o, pin, nofile, clk)
	startLoad := loadAvg()

	var t table
	echoFrame := bytes.Repeat([]byte{'x'}, o.size)
	echoSec := fmt.Sprintf("round trips: echo, %d connections, %d-byte frames (fxforge: gateway echoing with conn.Read/conn.Write; baseline: raw coder/websocket echo)", o.conns, o.size)
	appSec := fmt.Sprintf("round trips: app.info, %d connections, %d-byte request frames (fxforge: wsgateway.Serve + msregistry; baseline: raw coder/websocket echo of the same frame)", o.conns, len(appInfoFrame))
	idleSec := fmt.Sprintf("idle: %d connections held open (baseline: raw coder/websocket echo server)", o.idleConns)

	measure := func(run int, kind, what string, f func(*serverProc) error) error {
		prof := ""
		if o.profileDir != "" {
			prof = filepath.Join(o.profileDir, fmt.Sprintf("%s-%s-run%d.pprof", kind, what, run+1))
		}
		srv, err := startServer(pin, kind, prof)
		if err != nil {
			return err
		}
		ferr := f(srv)
		serr := srv.stop()
		if ferr != nil {
			return fmt.Errorf("%s %s (run %d): %w", kind, what, run+1, ferr)
		}
		return serr
	}
	rtt := func(run int, kind, what string, spec rttSpec) (rttResult, error) {
		var res rttResult
		err := measure(run, kind, what, func(srv *serverProc) error {
			var err error
			res, err = runRTT(ctx, ld, srv, spec, clk)
			return err
		})
		if err == nil {
			fmt.Fprintf(stderr, "run %d/%d: %-16s %-8s %9.0f round trips/s  p50 %6.1fµs  p99 %7.1fµs  server CPU %5.2fµs/round trip (%3.0f%% of a core)\n",
				run+1, o.runs, kind, what, res.perSecond(), micros(res.hist.quantile(0.5)), micros(res.hist.quantile(0.99)),
				micros(res.cpuPerRoundTrip()), 100*res.cpuSeconds/res.window.Seconds())
		}
		return res, err
	}
	addRTT := func(sec string, fx, base rttResult) {
		t.get(sec, "round trips/s", "", "higher", "%.0f").add(fx.perSecond(), base.perSecond())
		t.get(sec, "p50 latency", "µs", "lower", "%.1f").add(micros(fx.hist.quantile(0.5)), micros(base.hist.quantile(0.5)))
		t.get(sec, "p99 latency", "µs", "lower", "%.1f").add(micros(fx.hist.quantile(0.99)), micros(base.hist.quantile(0.99)))
		t.get(sec, "server CPU per round trip", "µs", "lower", "%.2f").add(micros(fx.cpuPerRoundTrip()), micros(base.cpuPerRoundTrip()))
		t.get(sec, "server CPU use", "% of one core", "", "%.0f").add(100*fx.cpuSeconds/fx.window.Seconds(), 100*base.cpuSeconds/base.window.Seconds())
	}
	idle := func(run int, kind string, greeting bool) (idleResult, error) {
		var res idleResult
		err := measure(run, kind, "idle", func(srv *serverProc) error {
			var err error
			res, err = runIdle(ctx, ld, srv, o.idleConns, greeting)
			return err
		})
		if err == nil {
			fmt.Fprintf(stderr, "run %d/%d: %-16s idle     %d conns: RSS %.2f KiB/conn, heap %.2f KiB/conn, stacks %.2f KiB/conn, %.2f goroutines/conn\n",
				run+1, o.runs, kind, o.idleConns, kib(res.rssPerConn), kib(res.heapPerConn), kib(res.stackPerConn), res.goroutines)
		}
		return res, err
	}
	addIdle := func(who string, fx, base idleResult) {
		t.get(idleSec, who+": server RSS per connection", "KiB", "lower", "%.2f").add(kib(fx.rssPerConn), kib(base.rssPerConn))
		t.get(idleSec, who+": Go heap (HeapInuse) per connection", "KiB", "lower", "%.2f").add(kib(fx.heapPerConn), kib(base.heapPerConn))
		t.get(idleSec, who+": goroutine stacks per connection", "KiB", "lower", "%.2f").add(kib(fx.stackPerConn), kib(base.stackPerConn))
		t.get(idleSec, who+": goroutines per connection", "", "", "%.2f").add(fx.goroutines, base.goroutines)
	}

	for i := range o.runs {
		if o.mode == modeRTT || o.mode == modeAll {
			echoSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: echoFrame, check: echoCheck(echoFrame)}
			rawAppSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: appInfoFrame, check: echoCheck(appInfoFrame)}
			appSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: appInfoFrame, greeting: true, check: appInfoCheck}
			// Alternate who goes first, so drift over a run does not favour
			// one side.
			var fxEcho, rawEcho, fxApp, rawApp rttResult
			var err error
			steps := []func() error{
				func() error { rawEcho, err = rtt(i, kindRaw, "echo", echoSpec); return err },
				func() error { fxEcho, err = rtt(i, kindEcho, "echo", echoSpec); return err },
				func() error { rawApp, err = rtt(i, kindRaw, "app.info", rawAppSpec); return err },
				func() error { fxApp, err = rtt(i, kindAppInfo, "app.info", appSpec); return err },
			}
			if i%2 == 1 {
				steps[0], steps[1], steps[2], steps[3] = steps[1], steps[0], steps[3], steps[2]
			}
			for _, s := range steps {
				if err := s(); err != nil {
					return err
				}
			}
			addRTT(echoSec, fxEcho, rawEcho)
			addRTT(appSec, fxApp, rawApp)
		}
		if o.mode == modeIdle || o.mode == modeAll {
			raw, err := idle(i, kindRaw, false)
			if err != nil {
				return err
			}
			fxEcho, err := idle(i, kindEcho, false)
			if err != nil {
				return err
			}
			fxApp, err := idle(i, kindAppInfo, true)
			if err != nil {
				return err
			}
			addIdle("echo gateway", fxEcho, raw)
			addIdle("app.info gateway", fxApp, raw)
		}
	}

	fmt.Fprintf(stdout, "\nload average at start / end: %s / %s (other processes on the machine add noise)\n", startLoad, loadAvg())
	fmt.Fprintf(stdout, "\nmedian of %d run(s); ratio = fxforge / baseline, median of the per-run ratios\n", o.runs)
	t.write(stdout)
	writeTargets(stdout, []target{
		{what: "echo: server CPU per round trip ≤ 1.05× raw", fig: t.find(echoSec, "server CPU per round trip"), limit: 1.05, atMost: true, note: targetNote(o.conns == 50 && o.size == 64, "issue fixes 50 conns, 64-byte frames")},
		{what: "echo: round trips/s ≥ 0.95× raw", fig: t.find(echoSec, "round trips/s"), limit: 0.95, note: targetNote(o.conns == 50 && o.size == 64, "issue fixes 50 conns, 64-byte frames")},
		{what: "app.info: server CPU per round trip ≤ 1.3× raw echo", fig: t.find(appSec, "server CPU per round trip"), limit: 1.3, atMost: true},
		{what: "idle: RSS per connection ≤ 1.15× raw (echo gateway)", fig: t.find(idleSec, "echo gateway: server RSS per connection"), limit: 1.15, atMost: true, note: targetNote(o.idleConns == 10000, "issue fixes 10,000 connections")},
		{what: "idle: RSS per connection ≤ 1.15× raw (app.info gateway)", fig: t.find(idleSec, "app.info gateway: server RSS per connection"), limit: 1.15, atMost: true, note: targetNote(o.idleConns == 10000, "issue fixes 10,000 connections")},
	})
	return nil
}

func targetNote(asSpecified bool, spec string) string {
	if asSpecified {
		return ""
	}
	return "measured with other parameters; " + spec
}

// writeHeader prints the command, the machine and the setup.
func writeHeader(w io.Writer, o options, pin pinning, nofile uint64, clk float64) {
	fmt.Fprintf(w, "wsbench %s\n\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "machine:   %d CPUs (%s), %s, kernel %s\n", cpuCount(), cpuModel(), runtime.Version(), kernel())
	fmt.Fprintf(w, "libraries: %s (server and baseline), %s (load generator client)\n", depVersion("github.com/coder/websocket"), depVersion("github.com/gorilla/websocket"))
	if pin.taskset != "" {
		gen := "core " + pin.load
		if os.Getenv(envPinned) == "" {
			gen = "not pinned (in-process run)"
		}
		fmt.Fprintf(w, "pinning:   server on core %s, load generator %s (taskset)\n", pin.server, gen)
	} else {
		fmt.Fprintf(w, "pinning:   none; server and load generator share the CPUs\n")
	}
	fmt.Fprintf(w, "setup:     loopback, %d source addresses, open files %d, CLK_TCK %.0f, fxforge PingInterval %s (no heartbeat fires in a run)\n",
		max(1, min(o.srcAddrs, 254)), nofile, clk, benchPingInterval)
	if o.mode != modeIdle {
		fmt.Fprintf(w, "rtt:       %d connections, %d-byte echo frames, warm-up %s, window %s\n", o.conns, o.size, o.warmup, o.duration)
	}
	if o.mode != modeRTT {
		fmt.Fprintf(w, "idle:      %d connections, memory after a forced GC (debug.FreeOSMemory) before and after\n", o.idleConns)
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown model"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown model"
}

// cpuCount counts the machine's processors; runtime.NumCPU would count only
// the ones this (pinned) process may use.
func cpuCount() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "processor" {
			n++
		}
	}
	return max(n, 1)
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func depVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return path + " " + d.Version
			}
		}
	}
	return path
}
