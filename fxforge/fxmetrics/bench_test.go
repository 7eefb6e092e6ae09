//go:build linux

package fxmetrics_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// benchServerEnv selects the app TestBenchServerProcess serves: "off"
// without fxmetrics, "on" with it.
const benchServerEnv = "FXMETRICS_BENCH_SERVER"

type benchConfig struct{ name string }

type benchInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
}

var (
	benchFrame = []byte(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"1"}`)
	benchReply = `{"kind":"response","pattern":"app.info","id":"1","payload":{"app_name":"bench","transport":"websocket"},"metadata":{}}`
)

// benchApp is examples/hello-websockets' app.info path: a gateway that
// greets and serves frames, and an app.info handler that resolves its
// config.
func benchApp() fx.Option {
	return fx.Options(
		fxforge.Provide(func() *benchConfig { return &benchConfig{name: "bench"} }),
		fxforge.Microservices(),
		fxforge.Patterns(func(reg *msregistry.Registry) error {
			return msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (benchInfo, error) {
				cfg, err := msregistry.Resolve[*benchConfig](ctx)
				if err != nil {
					return benchInfo{}, err
				}
				call, _ := msregistry.CallFrom(ctx)
				return benchInfo{AppName: cfg.name, Transport: call.Transport}, nil
			})
		}),
		fxforge.Gateway(func(reg *msregistry.Registry) wsgateway.Gateway {
			return wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
				if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
					return err
				}
				return wsgateway.Serve(ctx, conn, reg)
			})
		}),
		fxforge.WebSocketModule("/ws"),
	)
}

// TestBenchServerProcess is BenchmarkAppInfoServerCPU's server, not a test:
// the benchmark runs the test binary again with benchServerEnv set, and the
// app serves on a free port, printed as "ADDR host:port", until stdin
// closes.
func TestBenchServerProcess(t *testing.T) {
	mode := os.Getenv(benchServerEnv)
	if mode == "" {
		t.Skip("runs only as BenchmarkAppInfoServerCPU's server process")
	}
	var srv *fxforge.Server
	opts := []fx.Option{fx.NopLogger, fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")), benchApp(), fx.Populate(&srv)}
	if mode == "on" {
		opts = append(opts, fxmetrics.Module)
	}
	app := fx.New(opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", srv.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	if err := app.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
}

// benchServer is a server process and one client connection to it.
type benchServer struct {
	pid  int
	conn *websocket.Conn
}

// startBenchServer starts the test binary as a server process with metrics
// on or off and connects to it. Both end with the benchmark.
func startBenchServer(b *testing.B, mode string) *benchServer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchServerEnv+"="+mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var addr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	// Drain the rest of its output, then wait for it, after the client
	// connection has closed (cleanups run last-registered first).
	b.Cleanup(func() {
		stdin.Close()
		_, _ = io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			b.Errorf("server process (metrics %s): %v", mode, err)
		}
	})
	if addr == "" {
		b.Fatalf("server process (metrics %s) printed no address", mode)
	}
	s := &benchServer{pid: cmd.Process.Pid}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.conn, _, err = websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.conn.Close(websocket.StatusNormalClosure, "") })
	if _, greeting, err := s.conn.Read(ctx); err != nil || !bytes.HasPrefix(greeting, []byte("connected:")) {
		b.Fatalf("greeting %q, %v", greeting, err)
	}
	s.roundTrips(b, 1000) // warm up
	return s
}

// roundTrips makes n app.info round trips and returns how long they took.
func (s *benchServer) roundTrips(b *testing.B, n int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for range n {
		if err := s.conn.Write(ctx, websocket.MessageText, benchFrame); err != nil {
			b.Fatal(err)
		}
		_, reply, err := s.conn.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if string(reply) != benchReply {
			b.Fatalf("reply %s, want %s", reply, benchReply)
		}
	}
	return time.Since(start)
}

// cpu returns the server process's CPU time so far: the sum over its
// threads of the time on CPU the scheduler accounts in nanoseconds
// (/proc/PID/task/TID/schedstat). Reading it costs the server nothing.
func (s *benchServer) cpu(b *testing.B) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", s.pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no schedstat for process %d: %v", s.pid, err)
	}
	var total time.Duration
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			b.Fatalf("%s: %q", path, data)
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			b.Fatalf("%s: %q", path, data)
		}
		total += time.Duration(ns)
	}
	return total
}

// BenchmarkAppInfoServerCPU measures the server CPU time of an app.info
// round trip with fxmetrics on against off, in the same run. Two server
// processes (the test binary, run again) take round trips in alternating
// batches over one connection each, so that both see the same load on the
// machine; one op is one round trip to each. The on-vs-off case pits a
// server with fxmetrics against one without; off-vs-off pits two servers
// without it against each other, which shows the noise of the machine.
//
// Each reports the servers' CPU time per round trip (the scheduler's
// accounting of the server process), the ratio b/a over the whole run, the
// median of the ratios of the batch pairs (robust to bursts of load from
// other processes on a shared machine), and the wall-time ratio.
func BenchmarkAppInfoServerCPU(b *testing.B) {
	b.Run("on-vs-off", func(b *testing.B) { benchServerPair(b, "off", "on") })
	b.Run("off-vs-off", func(b *testing.B) { benchServerPair(b, "off", "off") })
}

func benchServerPair(b *testing.B, modeA, modeB string) {
	sa := startBenchServer(b, modeA)
	sb := startBenchServer(b, modeB)
	const batch = 500
	var cpuA, cpuB, wallA, wallB time.Duration
	var ratios []float64
	// pass runs n round trips on s and adds their CPU and wall time.
	pass := func(s *benchServer, n int, cpu, wall *time.Duration) time.Duration {
		c0 := s.cpu(b)
		*wall += s.roundTrips(b, n)
		c := s.cpu(b) - c0
		*cpu += c
		return c
	}
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; i++ {
		n := min(batch, b.N-done)
		var ca, cb time.Duration
		// Alternate which server goes first.
		if i%2 == 0 {
			ca = pass(sa, n, &cpuA, &wallA)
			cb = pass(sb, n, &cpuB, &wallB)
		} else {
			cb = pass(sb, n, &cpuB, &wallB)
			ca = pass(sa, n, &cpuA, &wallA)
		}
		if n == batch && ca > 0 {
			ratios = append(ratios, float64(cb)/float64(ca))
		}
		done += n
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(cpuA.Nanoseconds())/n, "cpu-ns-a/rt")
	b.ReportMetric(float64(cpuB.Nanoseconds())/n, "cpu-ns-b/rt")
	b.ReportMetric(float64(cpuB)/float64(cpuA), "cpu-b/a")
	if len(ratios) > 0 {
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "cpu-b/a-median")
	}
	b.ReportMetric(float64(wallB)/float64(wallA), "wall-b/a")
}

// BenchmarkObserverCallsPerRoundTrip is what fxmetrics adds to one app.info
// round trip, in isolation: a message received, a call handled (with the
// registry's two clock reads) and a message sent.
func BenchmarkObserverCallsPerRoundTrip(b *testing.B) {
	reg := prometheus.NewRegistry()
	gateways, err := fxmetrics.NewGatewayMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	calls, err := fxmetrics.NewRegistryMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	obs := gateways.Observer("/ws")
	call := msregistry.Call{Transport: "websocket", Pattern: "app.info", Kind: msregistry.KindMessage}
	roundTrip := func() {
		start := time.Now()
		obs.MessageReceived()
		calls.Handled(call, time.Since(start), nil)
		obs.MessageSent()
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU(b)
		for b.Loop() {
			roundTrip()
		}
		b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				roundTrip()
			}
		})
		b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}

// processCPU returns this process's CPU time so far; on a shared machine it
// is a steadier measure than wall time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandleFrame is the registry's part of an app.info round trip
// (decode the frame, resolve, run the handler, encode the reply) without
// an observer and with RegistryMetrics.
func BenchmarkHandleFrame(b *testing.B) {
	for _, observed := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", observed), func(b *testing.B) {
			var opts []msregistry.Option
			if observed {
				m, err := fxmetrics.NewRegistryMetrics(prometheus.NewRegistry())
				if err != nil {
					b.Fatal(err)
				}
				opts = append(opts, msregistry.WithObserver(m))
			}
			res := msregistry.NewResolver()
			msregistry.Register(res, &benchConfig{name: "bench"})
			reg := msregistry.New(append(opts, msregistry.WithResolver(res))...)
			err := msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (benchInfo, error) {
				cfg, err := msregistry.Resolve[*benchConfig](ctx)
				if err != nil {
					return benchInfo{}, err
				}
				call, _ := msregistry.CallFrom(ctx)
				return benchInfo{AppName: cfg.name, Transport: call.Transport}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var buf []byte
			b.ReportAllocs()
			cpu := processCPU(b)
			for b.Loop() {
				buf, _ = reg.HandleFrame(ctx, "websocket", benchFrame, buf[:0])
			}
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
