package fxmetrics

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fxforge/fxforge/msregistry"
)

// DefaultDurationBuckets are the upper bounds, in seconds, of the
// fxforge_ms_handle_duration_seconds buckets: 100 µs to 10 s.
func DefaultDurationBuckets() []float64 {
	return []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// RegistryMetrics is the msregistry.Observer that keeps the microservice
// series of an app:
//
//	fxforge_ms_handled_total{pattern,kind,transport,outcome}   counter, outcome ok or error
//	fxforge_ms_handle_duration_seconds{pattern,transport}      histogram
//	fxforge_ms_unknown_pattern_total{kind,transport}           counter
//
// pattern is always a registered pattern: a call for a pattern that has no
// handler counts only in fxforge_ms_unknown_pattern_total, so a client
// cannot create series. Module wires it into fxforge.Microservices; without
// fx, pass it to msregistry.WithObserver.
type RegistryMetrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	unknown  *prometheus.CounterVec

	mu    sync.Mutex // serialises additions to calls
	calls atomic.Pointer[map[callKey]*callSeries]
}

// callKey names the series of one registered pattern on one transport.
type callKey struct {
	pattern, transport string
	kind               msregistry.Kind
}

// callSeries are the series of one callKey, looked up once.
type callSeries struct {
	ok, failed prometheus.Counter
	duration   prometheus.Observer
}

// NewRegistryMetrics creates the microservice series and registers them
// with reg. buckets are the histogram's bucket bounds in seconds; none means
// DefaultDurationBuckets.
func NewRegistryMetrics(reg prometheus.Registerer, buckets ...float64) (*RegistryMetrics, error) {
	if len(buckets) == 0 {
		buckets = DefaultDurationBuckets()
	}
	m := &RegistryMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ms_handled_total",
			Help: "Microservice calls handled, by registered pattern, kind (message or event), transport and outcome (ok or error).",
		}, []string{"pattern", "kind", "transport", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fxforge_ms_handle_duration_seconds",
			Help:    "Time to handle a microservice call: payload decode, handlers and result encode.",
			Buckets: buckets,
		}, []string{"pattern", "transport"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ms_unknown_pattern_total",
			Help: "Microservice calls for a pattern with no handler of their kind.",
		}, []string{"kind", "transport"}),
	}
	m.calls.Store(&map[callKey]*callSeries{})
	if err := register(reg, m.handled, m.duration, m.unknown); err != nil {
		return nil, err
	}
	return m, nil
}

// Handled counts the call and observes its duration.
func (m *RegistryMetrics) Handled(c msregistry.Call, d time.Duration, err error) {
	s := m.series(c)
	if err != nil {
		s.failed.Inc()
	} else {
		s.ok.Inc()
	}
	s.duration.Observe(d.Seconds())
}

// Unknown counts a call for a pattern with no handler.
func (m *RegistryMetrics) Unknown(kind msregistry.Kind, transport string) {
	m.unknown.WithLabelValues(kind.String(), transport).Inc()
}

// series returns the series of c's pattern, kind and transport. A call
// reads them from an immutable map; the first call of each adds them
// (copy on write).
func (m *RegistryMetrics) series(c msregistry.Call) *callSeries {
	k := callKey{pattern: c.Pattern, transport: c.Transport, kind: c.Kind}
	if s, ok := (*m.calls.Load())[k]; ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.calls.Load()
	if s, ok := old[k]; ok {
		return s
	}
	kind := c.Kind.String()
	s := &callSeries{
		ok:       m.handled.WithLabelValues(c.Pattern, kind, c.Transport, "ok"),
		failed:   m.handled.WithLabelValues(c.Pattern, kind, c.Transport, "error"),
		duration: m.duration.WithLabelValues(c.Pattern, c.Transport),
	}
	calls := maps.Clone(old)
	calls[k] = s
	m.calls.Store(&calls)
	return s
}
