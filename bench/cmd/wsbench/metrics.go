package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// defaultMetricsRuns is -runs when -mode=metrics is given without it: an
// even number of pairs, so each order (off first, on first) comes up as
// often, and enough of them for a stable median; with -duration=4s the mode
// takes about two minutes, one and a half without the control.
const defaultMetricsRuns = 8

// metricsProbeTimeout bounds the GET /metrics that tells the two builds
// apart before each measurement.
const metricsProbeTimeout = 5 * time.Second

func (b *bench) metricsSec() string {
	return fmt.Sprintf("metrics: app.info, %d connections, %d-byte request frames, ABBA pairs of fresh servers (fxforge column: examples/hello-websockets as built, fxmetrics.Module on; baseline: the same main.go without its fxmetrics.Module line, go build -overlay)", b.o.conns, len(appInfoFrame))
}

func (b *bench) controlSec() string {
	return "metrics control: two metrics-off servers in the same pairs, the noise floor (fxforge column: the second metrics-off server; baseline: the first, as above)"
}

// metricsRun measures one pair: app.info round trips to a fresh
// hello-websockets process without metrics and to one with them, in the
// order inTurn gives (off, on in even runs, on, off in odd ones: ABBA), and,
// with the control on, to a second server without metrics.
func (b *bench) metricsRun(ctx context.Context, run int) error {
	o := b.o
	spec := func(status int) rttSpec {
		return rttSpec{conns: o.conns, warmup: o.warmup, duration: o.duration, frame: appInfoFrame, greeting: true, check: appInfoCheck, before: metricsProbe(status)}
	}
	var on, off, off2 rttResult
	var err error
	steps := []func() error{
		func() error {
			off, err = b.rtt(ctx, run, kindMetricsOff, "app.info", spec(http.StatusNotFound))
			return err
		},
		func() error { on, err = b.rtt(ctx, run, kindMetricsOn, "app.info", spec(http.StatusOK)); return err },
	}
	if o.metricsCtl {
		steps = append(steps, func() error {
			off2, err = b.rtt(ctx, run, kindMetricsOff, "control", spec(http.StatusNotFound))
			return err
		})
	}
	if err := inTurn(run, steps...); err != nil {
		return err
	}
	b.addRTTRows(b.metricsSec(), on, off)
	if o.metricsCtl {
		b.addRTTRows(b.controlSec(), off2, off)
	}
	return nil
}

// metricsTarget is issue 12's overhead target, with the control's ratio as
// its noise floor when the control ran.
func (b *bench) metricsTarget() target {
	g := target{what: "metrics: app.info server CPU per round trip on/off ≤ 1.03×", fig: b.t.find(b.metricsSec(), rowCPU), limit: 1.03, atMost: true}
	if ctl := b.t.find(b.controlSec(), rowCPU); ctl != nil {
		g.note = fmt.Sprintf("noise floor, off/off in the same pairs: %s, per run %s", fmtRatio(ctl.ratio()), ctl.spread())
	}
	return g
}

// metricsProbe returns a check that the server answers GET /metrics with
// status: 200 for the build with metrics, 404 for the one without. It tells
// the two builds apart, so the comparison cannot quietly measure the same
// build twice.
func metricsProbe(status int) func(context.Context, *serverProc) error {
	return func(ctx context.Context, srv *serverProc) error {
		ctx, cancel := context.WithTimeout(ctx, metricsProbeTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.addr+"/metrics", nil)
		if err != nil {
			return err
		}
		// No keep-alive: no idle HTTP connection stays on the server while
		// it is measured.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET /metrics: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode == status:
			return nil
		case status == http.StatusOK:
			return fmt.Errorf("GET /metrics answered %s, want 200: the hello example as built serves no metrics, so the comparison would measure two builds without them; "+
				"turn fxmetrics.Module back on in %s or update metricsOptionLine in bench/cmd/wsbench/overlay.go", resp.Status, helloMain)
		default:
			return fmt.Errorf("GET /metrics answered %s, want %d: the build without fxmetrics.Module still serves metrics; "+
				"check that go build -overlay took the patched main.go (withoutMetrics in bench/cmd/wsbench/overlay.go)", resp.Status, status)
		}
	}
}
