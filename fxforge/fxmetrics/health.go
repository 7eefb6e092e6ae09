package fxmetrics

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// phase is where the app is in its life, as /readyz reports it.
type phase int32

const (
	starting phase = iota
	ready
	draining
)

func (p phase) String() string {
	switch p {
	case ready:
		return "ready"
	case draining:
		return "draining"
	default:
		return "starting"
	}
}

// health answers the liveness and readiness probes of one app.
type health struct {
	phase atomic.Int32
	log   *zap.Logger // tagged with the readiness path
}

// live answers 200 for as long as the process serves HTTP.
func (h *health) live(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, http.StatusOK, "ok")
}

// ready answers 200 once the app has started and 503 while it starts or
// drains, with the phase as the body.
func (h *health) ready(w http.ResponseWriter, _ *http.Request) {
	p := phase(h.phase.Load())
	status := http.StatusServiceUnavailable
	if p == ready {
		status = http.StatusOK
	}
	writeProbe(w, status, p.String())
}

func writeProbe(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}

// hook turns the app ready on start and draining on stop. It must be
// appended to the lifecycle after the hooks of the servers it reports on,
// so that fx starts it after them and stops it before them. After turning
// draining it waits drainDelay, for load balancers to see the 503.
func (h *health) hook(drainDelay time.Duration) fx.Hook {
	return fx.Hook{
		OnStart: func(context.Context) error {
			h.phase.Store(int32(ready))
			h.log.Info("ready")
			return nil
		},
		OnStop: func(ctx context.Context) error {
			h.phase.Store(int32(draining))
			h.log.Info("draining", zap.Duration("drain_delay", drainDelay))
			if drainDelay <= 0 {
				return nil
			}
			t := time.NewTimer(drainDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			return nil
		},
	}
}
