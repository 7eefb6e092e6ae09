package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for wsbench: the harness
// re-executes os.Executable() as "server -kind=...".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		if err := serverMain(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "wsbench server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHarnessRunsEveryModeWithSmallNumbers runs the whole harness, server
// processes included, with tiny numbers and checks the report.
func TestHarnessRunsEveryModeWithSmallNumbers(t *testing.T) {
	var errOut bytes.Buffer
	o, err := parseOptions([]string{"-mode=all", "-conns=2", "-duration=300ms", "-warmup=50ms", "-idle-conns=20", "-runs=1", "-src-addrs=2"}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, o, choosePinning(true, &errOut), &out, &errOut); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, errOut.String())
	}
	report := out.String()
	for _, want := range []string{
		"| figure | fxforge | baseline | ratio |",
		"round trips: echo, 2 connections, 64-byte frames",
		"round trips: app.info, 2 connections",
		"server CPU per round trip (µs)",
		"p99 latency (µs)",
		"idle: 20 connections held open",
		"echo gateway: server RSS per connection (KiB)",
		"app.info gateway: Go heap (HeapInuse) per connection (KiB)",
		"echo: server CPU per round trip ≤ 1.05× raw",
		"github.com/coder/websocket v",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", errOut.String())
	}
}

func TestFanoutModeIsReservedNotImplemented(t *testing.T) {
	_, err := parseOptions([]string{"-mode=fanout"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Fatalf("parseOptions(-mode=fanout) = %v, want a not-implemented error", err)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := h.quantile(c.q)
		if got > c.want || float64(got) < 0.98*float64(c.want) {
			t.Errorf("quantile(%v) = %v, want within 2%% below %v", c.q, got, c.want)
		}
	}
}
