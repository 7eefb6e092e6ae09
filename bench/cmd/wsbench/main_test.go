package main

import (
	"bytes"
	"context"
	"encoding/json"
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
		if err := serverMain(os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "wsbench server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHarnessRunsEveryModeWithSmallNumbers runs the whole harness, server
// processes and the hello example's builds (with and without metrics)
// included, with tiny numbers and checks the report.
func TestHarnessRunsEveryModeWithSmallNumbers(t *testing.T) {
	var errOut bytes.Buffer
	o, err := parseOptions([]string{"-mode=all", "-conns=2", "-duration=300ms", "-warmup=50ms", "-idle-conns=20,30",
		"-fanout-subs=5", "-fanout-window=8", "-runs=1", "-src-addrs=2"}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, o, choosePinning(true, &errOut), &out, &errOut); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, errOut.String())
	}
	report := out.String()
	for _, want := range []string{
		"| figure | fxforge | baseline | ratio | per-run ratios |",
		"server waited for a CPU (% of the window)",
		"round trips: echo, 2 connections, 64-byte frames",
		"round trips: app.info, 2 connections",
		"examples/hello-websockets as built",
		"server CPU per round trip (µs)",
		"p99 latency (µs)",
		"idle: 20 connections held open",
		"idle: 30 connections held open",
		"hello-websockets: server RSS per connection (KiB)",
		"echo app: server RSS per connection (KiB)",
		"fan-out: 5 subscribers in one room",
		"deliveries/s, subscribers without batching",
		"deliveries/s, subscribers offering fxforge.batch.v1",
		"metrics: app.info, 2 connections, 77-byte request frames, ABBA pairs",
		"metrics control: two metrics-off servers",
		"| metrics: app.info server CPU per round trip on/off ≤ 1.03× |",
		"noise floor, off/off in the same pairs",
		"echo: server CPU per round trip ≤ 1.05× raw",
		"fan-out: deliveries/s with batching ≥ 4× raw",
		"github.com/coder/websocket v",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(errOut.String(), "reached all 5 subscribers in order") {
		t.Errorf("progress does not confirm every fan-out message arrived:\n%s", errOut.String())
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", errOut.String())
	}
}

func TestOptionsRefuseAFanoutWindowAtTheQueueBound(t *testing.T) {
	_, err := parseOptions([]string{"-fanout-window=256"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "slow consumers") {
		t.Fatalf("parseOptions(-fanout-window=256) = %v, want an error about the queue bound", err)
	}
}

func TestTickFramesCarryTheirSequenceNumber(t *testing.T) {
	for _, c := range []struct {
		seq  uint64
		size int
	}{{1, 200}, {42, minTick}, {1<<64 - 1, 1000}, {7, 10}} {
		f := tickFrame(c.seq, c.size)
		if want := max(c.size, minTick); len(f) != want {
			t.Errorf("tickFrame(%d, %d) has %d bytes, want %d", c.seq, c.size, len(f), want)
		}
		if !json.Valid(f) || bytes.ContainsRune(f, '\n') {
			t.Errorf("tickFrame(%d, %d) = %s: not one line of JSON", c.seq, c.size, f)
		}
		if got, err := tickSeq(f); err != nil || got != c.seq {
			t.Errorf("tickSeq(tickFrame(%d)) = %d, %v", c.seq, got, err)
		}
	}
	if _, err := tickSeq([]byte(`{"kind":"event"}`)); err == nil {
		t.Error("tickSeq accepted a frame that is not a tick")
	}
}

func TestParsePublish(t *testing.T) {
	for _, c := range []struct {
		msg     string
		n, size int
		ok      bool
	}{
		{"publish 1 200", 1, 200, true},
		{"publish 65536 32768", 65536, 32768, true},
		{"publish 0 200", 0, 0, false},
		{"publish 1 0", 0, 0, false},
		{"publish 1 40000", 0, 0, false},
		{"publish x 200", 0, 0, false},
		{"hello", 0, 0, false},
	} {
		n, size, err := parsePublish([]byte(c.msg))
		if (err == nil) != c.ok || n != c.n || size != c.size {
			t.Errorf("parsePublish(%q) = %d, %d, %v", c.msg, n, size, err)
		}
	}
	if n, size, err := parsePublish(publishRequest(3, 250)); err != nil || n != 3 || size != 250 {
		t.Errorf("parsePublish(publishRequest(3, 250)) = %d, %d, %v", n, size, err)
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
