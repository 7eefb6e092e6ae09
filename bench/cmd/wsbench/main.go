// Command wsbench is fxforge's WebSocket load harness. It measures what
// users run, fxforge's example apps on their default configuration, against
// raw coder/websocket servers (the baselines, no fxforge code) in the same
// invocation, on the same machine, and prints every figure with its ratio
// to the baseline:
//
//	go run ./bench/cmd/wsbench -runs=5 -duration=5s
//
// The servers run as separate processes, one fresh process per
// measurement, pinned with taskset to core 0 while the load generator runs
// on core 1:
//
//   - hello-websockets: the examples/hello-websockets program itself, built
//     with go build at the start of the run and started with PORT set;
//   - fxforge-echo and fxforge-fanout: small fx apps built as a user builds
//     one (fxforge.Logger, fxforge.HTTPServer, fxforge.Gateway,
//     fxforge.WebSocketModule, default wsgateway config), run as
//     "wsbench server -kind=KIND";
//   - raw and raw-fanout: a coder/websocket echo server and broadcast loop on
//     net/http, the baselines.
//
// The load generator speaks gorilla/websocket, a client implementation
// other than the servers', over loopback only, spreading its source
// addresses over 127.0.0.1..127.0.0.N.
//
// Modes (-mode):
//
//   - rtt: -conns connections each send a -size byte frame and wait for the
//     reply, for -duration after a -warmup. Two comparisons: the echo app
//     against the raw echo server, and app.info frames to hello-websockets
//     against the raw echo server echoing the same request frame. Figures:
//     round trips per second, p50/p99 latency, and the server's CPU time
//     (user+system from /proc/PID/stat) per round trip over the window.
//   - idle: for each count in -idle-conns, that many connections are opened
//     and left idle (their clients read, so they answer heartbeat pings);
//     the figure is the growth of the server's VmRSS (/proc/PID/status) per
//     connection, with no forced GC, as the OS sees it. -idle-hold reads it
//     again after a hold (30s includes a 25 s heartbeat).
//   - fanout: -fanout-subs subscribers in one room and one publisher; the
//     publisher asks for one -fanout-size byte message at a time, keeping at
//     most -fanout-window in flight to the slowest subscriber. Figures:
//     messages delivered to subscribers per second, and server CPU per
//     delivery; every subscriber must get every message, in order. The
//     fxforge app runs twice: subscribers without batching, and subscribers
//     offering the fxforge.batch.v1 subprotocol.
//   - metrics: issue 12's overhead target. app.info round trips as in rtt
//     mode to hello-websockets as built (fxmetrics.Module on) and to the
//     same main.go without its fxmetrics.Module line (off), built with go
//     build -overlay so nothing is written into the repository. Each run is
//     a pair of fresh server processes in alternating order (off, on, then
//     on, off: ABBA); the ratio is the median of the per-pair ratios. With
//     -metrics-control (the default) each run also measures a second off
//     server against the first: the noise floor. Alone, it runs
//     8 pairs unless -runs says otherwise.
//   - all: rtt, metrics, idle, then fanout.
//
// With -runs=N every measurement is repeated N times; the table shows the
// median of each figure and the median of the per-run ratios.
package main

import (
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fxforge/fxforge/wsgateway"
)

// Environment variables between the processes of one invocation.
const (
	envChild  = "WSBENCH_CHILD"  // set in server processes
	envPinned = "WSBENCH_PINNED" // set once the load generator runs under taskset
)

// Modes.
const (
	modeRTT     = "rtt"
	modeIdle    = "idle"
	modeFanout  = "fanout"
	modeMetrics = "metrics"
	modeAll     = "all"
)

// options are the command-line flags of the load generator.
type options struct {
	mode         string
	conns        int
	duration     time.Duration
	warmup       time.Duration
	size         int
	idleConns    []int
	idleHold     time.Duration
	fanoutSubs   int
	fanoutSize   int
	fanoutWindow int
	metricsCtl   bool
	runs         int
	srcAddrs     int
	pin          bool
	profileDir   string
	hello        string
}

// has reports whether the run includes mode m.
func (o options) has(m string) bool { return o.mode == m || o.mode == modeAll }

// intList is a flag holding a comma-separated list of counts.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("%q is not a count", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{idleConns: intList{5000, 10000}}
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", modeAll, "what to measure: rtt (round trips), idle (memory per idle connection), fanout (one publisher, many subscribers), metrics (app.info with metrics on against off), all")
	fs.IntVar(&o.conns, "conns", 50, "connections in rtt mode")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured window of each rtt and fanout run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each rtt and fanout window")
	fs.IntVar(&o.size, "size", 64, "frame size in bytes of the echo round trips (app.info frames are fixed)")
	fs.Var((*intList)(&o.idleConns), "idle-conns", "connections held open in idle mode, comma-separated counts measured in turn")
	fs.DurationVar(&o.idleHold, "idle-hold", 0, "in idle mode, read memory again after holding the connections this long (30s includes a heartbeat)")
	fs.IntVar(&o.fanoutSubs, "fanout-subs", 1000, "subscribers in fanout mode")
	fs.IntVar(&o.fanoutSize, "fanout-size", 200, fmt.Sprintf("message size in bytes in fanout mode (at least %d)", minTick))
	fs.IntVar(&o.fanoutWindow, "fanout-window", 128, "messages in flight to the slowest subscriber in fanout mode; below the servers' 256-message queues")
	fs.BoolVar(&o.metricsCtl, "metrics-control", true, "in metrics mode, also measure a second metrics-off server against the first in every run: the noise floor")
	fs.IntVar(&o.runs, "runs", 5, fmt.Sprintf("repetitions (pairs in metrics mode); the table reports medians; -mode=metrics alone defaults to %d", defaultMetricsRuns))
	fs.IntVar(&o.srcAddrs, "src-addrs", 16, "loopback source addresses to spread connections over (127.0.0.1..127.0.0.N)")
	fs.BoolVar(&o.pin, "pin", true, "pin the server to core 0 and the load generator to core 1 with taskset")
	fs.StringVar(&o.profileDir, "profile-dir", "", "write a CPU profile of every wsbench server process (not hello-websockets) to this directory")
	fs.StringVar(&o.hello, "hello", "", "a built examples/hello-websockets binary to measure; default: go build it at the start")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.mode == modeMetrics && !flagSet(fs, "runs") {
		o.runs = defaultMetricsRuns
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case !slices.Contains([]string{modeRTT, modeIdle, modeFanout, modeMetrics, modeAll}, o.mode):
		return o, fmt.Errorf("-mode=%q: want rtt, idle, fanout, metrics or all", o.mode)
	case o.conns < 1 || o.conns > 10000:
		return o, fmt.Errorf("-conns=%d: want 1..10000", o.conns)
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, fmt.Errorf("-duration=%s: want (0, 10m]", o.duration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return o, fmt.Errorf("-warmup=%s: want [0, 1m]", o.warmup)
	case o.size < 1 || o.size > 32<<10:
		return o, fmt.Errorf("-size=%d: want 1..32768 (the gateway's default read limit)", o.size)
	case len(o.idleConns) == 0 || slices.ContainsFunc(o.idleConns, func(n int) bool { return n < 1 || n > 100000 }):
		return o, fmt.Errorf("-idle-conns=%s: want counts in 1..100000", (*intList)(&o.idleConns))
	case o.idleHold < 0 || o.idleHold > 10*time.Minute:
		return o, fmt.Errorf("-idle-hold=%s: want [0, 10m]", o.idleHold)
	case o.fanoutSubs < 1 || o.fanoutSubs > 100000:
		return o, fmt.Errorf("-fanout-subs=%d: want 1..100000", o.fanoutSubs)
	case o.fanoutSize < minTick || o.fanoutSize > maxTick:
		return o, fmt.Errorf("-fanout-size=%d: want %d..%d", o.fanoutSize, minTick, maxTick)
	case o.fanoutWindow < 1 || o.fanoutWindow >= wsgateway.DefaultOutboundQueue:
		return o, fmt.Errorf("-fanout-window=%d: want 1..%d, below the default outbound queue, or the fxforge server closes subscribers as slow consumers", o.fanoutWindow, wsgateway.DefaultOutboundQueue-1)
	case o.runs < 1 || o.runs > 100:
		return o, fmt.Errorf("-runs=%d: want 1..100", o.runs)
	}
	return o, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		if err := serverMain(os.Args[2:], os.Stderr); err != nil {
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
	if need := uint64(max(slices.Max(o.idleConns), o.fanoutSubs)) + 256; (o.has(modeIdle) || o.has(modeFanout)) && need > nofile {
		return fmt.Errorf("%d connections need more open files than the limit %d allows; lower -idle-conns or -fanout-subs", need-256, nofile)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "wsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	examples, err := buildExamples(ctx, o, dir, stderr)
	if err != nil {
		return err
	}
	l := &launcher{pin: pin, examples: examples}
	clk := clockTicks()
	ld := newLoadDialer(o.srcAddrs)
	writeHeader(stdout, o, pin, nofile, clk)
	startLoad := loadAvg()

	var t table
	b := &bench{o: o, l: l, ld: ld, clk: clk, t: &t, stderr: stderr}
	for i := range o.runs {
		if o.has(modeRTT) {
			if err := b.rttRun(ctx, i); err != nil {
				return err
			}
		}
		if o.has(modeMetrics) {
			if err := b.metricsRun(ctx, i); err != nil {
				return err
			}
		}
		if o.has(modeIdle) {
			if err := b.idleRun(ctx, i); err != nil {
				return err
			}
		}
		if o.has(modeFanout) {
			if err := b.fanoutRun(ctx, i); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(stdout, "\nload average at start / end: %s / %s (other processes on the machine add noise)\n", startLoad, loadAvg())
	fmt.Fprintf(stdout, "\nmedian of %d run(s); ratio = fxforge / baseline, median of the per-run ratios\n", o.runs)
	t.write(stdout)
	std := o.conns == 50 && o.size == 64
	writeTargets(stdout, []target{
		{what: "echo: server CPU per round trip ≤ 1.05× raw", fig: t.find(b.echoSec(), rowCPU), limit: 1.05, atMost: true, note: targetNote(std, "issue fixes 50 conns, 64-byte frames")},
		{what: "echo: round trips/s ≥ 0.95× raw", fig: t.find(b.echoSec(), rowRate), limit: 0.95, note: targetNote(std, "issue fixes 50 conns, 64-byte frames")},
		{what: "app.info (hello-websockets): server CPU per round trip ≤ 1.3× raw echo", fig: t.find(b.appSec(), rowCPU), limit: 1.3, atMost: true},
		b.metricsTarget(),
		{what: "idle: hello-websockets RSS per connection at 5000 ≤ 1.05× raw", fig: t.find(b.idleSec(5000), rowIdleHello), limit: 1.05, atMost: true},
		{what: "fan-out: deliveries/s without batching ≥ 0.9× raw", fig: t.find(b.fanoutSec(), rowFanPlain), limit: 0.9, note: targetNote(o.fanoutSubs == 1000, "issue fixes 1000 subscribers")},
		{what: "fan-out: deliveries/s with batching ≥ 4× raw", fig: t.find(b.fanoutSec(), rowFanBatch), limit: 4, note: targetNote(o.fanoutSubs == 1000, "issue fixes 1000 subscribers")},
		{what: "fan-out, the same in CPU: server CPU per delivery without batching ≤ 1/0.9 raw", fig: t.find(b.fanoutSec(), rowFanCPU), limit: 1 / 0.9, atMost: true, note: "what deliveries/s would show on a core of its own"},
		{what: "fan-out, the same in CPU: server CPU per delivery with batching ≤ 1/4 raw", fig: t.find(b.fanoutSec(), rowFanBCPU), limit: 0.25, atMost: true, note: "what deliveries/s would show on a core of its own"},
	})
	return nil
}

func targetNote(asSpecified bool, spec string) string {
	if asSpecified {
		return ""
	}
	return "measured with other parameters; " + spec
}

// bench runs the measurements of one invocation into a table.
type bench struct {
	o      options
	l      *launcher
	ld     *loadDialer
	clk    float64
	t      *table
	stderr io.Writer
}

// Row names the targets look up.
const (
	rowRate      = "round trips/s"
	rowCPU       = "server CPU per round trip"
	rowIdleEcho  = "echo app: server RSS per connection"
	rowIdleHello = "hello-websockets: server RSS per connection"
	rowFanPlain  = "deliveries/s, subscribers without batching"
	rowFanBatch  = "deliveries/s, subscribers offering " + wsgateway.SubprotocolBatch
	rowFanCPU    = "server CPU per delivery, without batching"
	rowFanBCPU   = "server CPU per delivery, with batching"
	rowUse       = "server CPU use"
	rowWait      = "server waited for a CPU"
)

func (b *bench) echoSec() string {
	return fmt.Sprintf("round trips: echo, %d connections, %d-byte frames (fxforge: fx app whose gateway echoes with conn.Read/conn.Write, default config; baseline: raw coder/websocket echo)", b.o.conns, b.o.size)
}

func (b *bench) appSec() string {
	return fmt.Sprintf("round trips: app.info, %d connections, %d-byte request frames (fxforge: examples/hello-websockets as built; baseline: raw coder/websocket echo of the same frame)", b.o.conns, len(appInfoFrame))
}

func (b *bench) idleSec(n int) string {
	return fmt.Sprintf("idle: %d connections held open, VmRSS growth without forced GC (baseline: raw coder/websocket echo server)", n)
}

func (b *bench) fanoutSec() string {
	return fmt.Sprintf("fan-out: %d subscribers in one room, one publisher, %d-byte messages, at most %d in flight (fxforge: fx app with a Hub, hub.Send to the room; baseline: raw coder/websocket broadcast loop)", b.o.fanoutSubs, b.o.fanoutSize, b.o.fanoutWindow)
}

// measure starts a fresh server of kind, runs f against it and stops it.
func (b *bench) measure(run int, kind, what string, f func(*serverProc) error) error {
	prof := ""
	if b.o.profileDir != "" && !isExample(kind) {
		prof = filepath.Join(b.o.profileDir, fmt.Sprintf("%s-%s-run%d.pprof", kind, what, run+1))
	}
	srv, err := b.l.start(kind, prof)
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

// inTurn runs steps in order on even runs and in reverse on odd ones, so
// drift over an invocation does not favour one side.
func inTurn(run int, steps ...func() error) error {
	if run%2 == 1 {
		slices.Reverse(steps)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) rtt(ctx context.Context, run int, kind, what string, spec rttSpec) (rttResult, error) {
	var res rttResult
	err := b.measure(run, kind, what, func(srv *serverProc) error {
		var err error
		res, err = runRTT(ctx, b.ld, srv, spec, b.clk)
		return err
	})
	if err == nil {
		fmt.Fprintf(b.stderr, "run %d/%d: %-17s %-8s %9.0f round trips/s  p50 %6.1fµs  p99 %7.1fµs  server CPU %5.2fµs/round trip (%3.0f%% of a core, waited %3.0f%%)\n",
			run+1, b.o.runs, kind, what, res.perSecond(), micros(res.hist.quantile(0.5)), micros(res.hist.quantile(0.99)),
			micros(res.cpuPerRoundTrip()), pct(res.server.seconds, res.window), pct(res.server.waited, res.window))
	}
	return res, err
}

func (b *bench) rttRun(ctx context.Context, run int) error {
	o := b.o
	echoFrame := []byte(strings.Repeat("x", o.size))
	echoSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: echoFrame, check: echoCheck(echoFrame)}
	rawAppSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: appInfoFrame, check: echoCheck(appInfoFrame)}
	appSpec := rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: appInfoFrame, greeting: true, check: appInfoCheck}
	var fxEcho, rawEcho, fxApp, rawApp rttResult
	var err error
	if err := inTurn(run,
		func() error { rawEcho, err = b.rtt(ctx, run, kindRaw, "echo", echoSpec); return err },
		func() error { fxEcho, err = b.rtt(ctx, run, kindEcho, "echo", echoSpec); return err },
		func() error { rawApp, err = b.rtt(ctx, run, kindRaw, "app.info", rawAppSpec); return err },
		func() error { fxApp, err = b.rtt(ctx, run, kindHello, "app.info", appSpec); return err },
	); err != nil {
		return err
	}
	b.addRTTRows(b.echoSec(), fxEcho, rawEcho)
	b.addRTTRows(b.appSec(), fxApp, rawApp)
	return nil
}

// addRTTRows adds one run's round-trip figures to section sec of the table.
func (b *bench) addRTTRows(sec string, fx, base rttResult) {
	b.t.get(sec, rowRate, "", "higher", "%.0f").add(fx.perSecond(), base.perSecond())
	b.t.get(sec, "p50 latency", "µs", "lower", "%.1f").add(micros(fx.hist.quantile(0.5)), micros(base.hist.quantile(0.5)))
	b.t.get(sec, "p99 latency", "µs", "lower", "%.1f").add(micros(fx.hist.quantile(0.99)), micros(base.hist.quantile(0.99)))
	b.t.get(sec, rowCPU, "µs", "lower", "%.2f").add(micros(fx.cpuPerRoundTrip()), micros(base.cpuPerRoundTrip()))
	b.t.get(sec, rowUse, "% of one core", "", "%.0f").add(pct(fx.server.seconds, fx.window), pct(base.server.seconds, base.window))
	b.t.get(sec, rowWait, "% of the window", "", "%.0f").add(pct(fx.server.waited, fx.window), pct(base.server.waited, base.window))
}

func (b *bench) idle(ctx context.Context, run int, kind string, n int, opts dialOptions) (idleResult, error) {
	var res idleResult
	err := b.measure(run, kind, "idle", func(srv *serverProc) error {
		var err error
		res, err = runIdle(ctx, b.ld, srv, n, opts, b.o.idleHold)
		return err
	})
	if err == nil {
		held := ""
		if b.o.idleHold > 0 {
			held = fmt.Sprintf(", after %s %.2f KiB/conn", b.o.idleHold, kib(res.heldPerConn))
		}
		fmt.Fprintf(b.stderr, "run %d/%d: %-16s idle     %d conns: RSS %.1f → %.1f MiB, %.2f KiB/conn%s\n",
			run+1, b.o.runs, kind, n, mib(res.rssBefore), mib(res.rssAfter), kib(res.rssPerConn), held)
	}
	return res, err
}

func (b *bench) idleRun(ctx context.Context, run int) error {
	for _, n := range b.o.idleConns {
		var raw, echo, hello idleResult
		var err error
		if err := inTurn(run,
			func() error { raw, err = b.idle(ctx, run, kindRaw, n, dialOptions{}); return err },
			func() error { echo, err = b.idle(ctx, run, kindEcho, n, dialOptions{}); return err },
			func() error { hello, err = b.idle(ctx, run, kindHello, n, dialOptions{greeting: true}); return err },
		); err != nil {
			return err
		}
		sec := b.idleSec(n)
		b.t.get(sec, rowIdleHello, "KiB", "lower", "%.2f").add(kib(hello.rssPerConn), kib(raw.rssPerConn))
		b.t.get(sec, rowIdleEcho, "KiB", "lower", "%.2f").add(kib(echo.rssPerConn), kib(raw.rssPerConn))
		if b.o.idleHold > 0 {
			after := fmt.Sprintf(" after %s", b.o.idleHold)
			b.t.get(sec, rowIdleHello+after, "KiB", "lower", "%.2f").add(kib(hello.heldPerConn), kib(raw.heldPerConn))
			b.t.get(sec, rowIdleEcho+after, "KiB", "lower", "%.2f").add(kib(echo.heldPerConn), kib(raw.heldPerConn))
		}
	}
	return nil
}

func (b *bench) fanout(ctx context.Context, run int, kind string, batch bool) (fanoutResult, error) {
	o := b.o
	spec := fanoutSpec{subs: o.fanoutSubs, size: o.fanoutSize, window: o.fanoutWindow, warmup: o.warmup, duration: o.duration, batch: batch}
	what := "fanout"
	if batch {
		what = "fanout-batch"
	}
	var res fanoutResult
	err := b.measure(run, kind, what, func(srv *serverProc) error {
		var err error
		res, err = runFanout(ctx, b.ld, srv, spec, b.clk)
		return err
	})
	if err == nil {
		fmt.Fprintf(b.stderr, "run %d/%d: %-16s %-12s %9.0f deliveries/s  %5.1f per WebSocket message  server CPU %5.2fµs/delivery (%3.0f%% of a core, waited %3.0f%%)  load generator %3.0f%% of a core; all %d messages reached all %d subscribers in order\n",
			run+1, o.runs, kind, what, res.perSecond(), res.perWSMessage(), micros(res.cpuPerDelivery()),
			pct(res.server.seconds, res.window), pct(res.server.waited, res.window), pct(res.load.seconds, res.window), res.published, o.fanoutSubs)
	}
	return res, err
}

func (b *bench) fanoutRun(ctx context.Context, run int) error {
	var raw, plain, batched fanoutResult
	var err error
	if err := inTurn(run,
		func() error { raw, err = b.fanout(ctx, run, kindRawFanout, false); return err },
		func() error { plain, err = b.fanout(ctx, run, kindFanout, false); return err },
		func() error { batched, err = b.fanout(ctx, run, kindFanout, true); return err },
	); err != nil {
		return err
	}
	sec := b.fanoutSec()
	b.t.get(sec, rowFanPlain, "", "higher", "%.0f").add(plain.perSecond(), raw.perSecond())
	b.t.get(sec, rowFanBatch, "", "higher", "%.0f").add(batched.perSecond(), raw.perSecond())
	b.t.get(sec, rowFanCPU, "µs", "lower", "%.3f").add(micros(plain.cpuPerDelivery()), micros(raw.cpuPerDelivery()))
	b.t.get(sec, rowFanBCPU, "µs", "lower", "%.3f").add(micros(batched.cpuPerDelivery()), micros(raw.cpuPerDelivery()))
	b.t.get(sec, "messages per WebSocket message, with batching", "", "", "%.1f").add(batched.perWSMessage(), raw.perWSMessage())
	for _, c := range []struct {
		what string
		fx   fanoutResult
	}{{"without batching", plain}, {"with batching", batched}} {
		b.t.get(sec, rowUse+", "+c.what, "% of one core", "", "%.0f").add(pct(c.fx.server.seconds, c.fx.window), pct(raw.server.seconds, raw.window))
		b.t.get(sec, rowWait+", "+c.what, "% of the window", "", "%.0f").add(pct(c.fx.server.waited, c.fx.window), pct(raw.server.waited, raw.window))
		b.t.get(sec, "load generator CPU use, "+c.what, "% of one core", "", "%.0f").add(pct(c.fx.load.seconds, c.fx.window), pct(raw.load.seconds, raw.window))
	}
	return nil
}

// writeHeader prints the command, the machine and the setup.
func writeHeader(w io.Writer, o options, pin pinning, nofile uint64, clk float64) {
	fmt.Fprintf(w, "wsbench %s\n\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "machine:   %d CPUs (%s), %s, kernel %s\n", cpuCount(), cpuModel(), runtime.Version(), kernel())
	fmt.Fprintf(w, "libraries: %s (servers), %s (load generator client)\n", depVersion("github.com/coder/websocket"), depVersion("github.com/gorilla/websocket"))
	if pin.taskset != "" {
		gen := "core " + pin.load
		if os.Getenv(envPinned) == "" {
			gen = "not pinned (in-process run)"
		}
		fmt.Fprintf(w, "pinning:   server on core %s, load generator %s (taskset)\n", pin.server, gen)
	} else {
		fmt.Fprintf(w, "pinning:   none; server and load generator share the CPUs\n")
	}
	fmt.Fprintf(w, "servers:   fxforge apps on default config (heartbeat every %s, %d-message queues, fxforge.Logger at info); loopback, %d source addresses, open files %d, CLK_TCK %.0f\n",
		wsgateway.DefaultPingInterval, wsgateway.DefaultOutboundQueue, max(1, min(o.srcAddrs, 254)), nofile, clk)
	if o.has(modeRTT) {
		fmt.Fprintf(w, "rtt:       %d connections, %d-byte echo frames, warm-up %s, window %s\n", o.conns, o.size, o.warmup, o.duration)
	}
	if o.has(modeMetrics) {
		ctl := "off"
		if o.metricsCtl {
			ctl = "a second metrics-off server in every run"
		}
		fmt.Fprintf(w, "metrics:   app.info, %d connections, %d pairs of fresh hello-websockets servers, metrics on (as built) and off (go build -overlay without fxmetrics.Module), ABBA order; control: %s; warm-up %s, window %s\n", o.conns, o.runs, ctl, o.warmup, o.duration)
	}
	if o.has(modeIdle) {
		hold := ""
		if o.idleHold > 0 {
			hold = fmt.Sprintf(", and again after %s", o.idleHold)
		}
		fmt.Fprintf(w, "idle:      %s connections, VmRSS from /proc without forcing GC, %s after the last connection opened%s\n", (*intList)(&o.idleConns), idleSettle, hold)
	}
	if o.has(modeFanout) {
		fmt.Fprintf(w, "fanout:    %d subscribers, %d-byte messages, at most %d in flight, warm-up %s, window %s\n", o.fanoutSubs, o.fanoutSize, o.fanoutWindow, o.warmup, o.duration)
	}
}

// pct returns seconds as a percentage of window.
func pct(seconds float64, window time.Duration) float64 { return 100 * seconds / window.Seconds() }

// mib converts bytes to MiB.
func mib(b uint64) float64 { return float64(b) / (1 << 20) }
