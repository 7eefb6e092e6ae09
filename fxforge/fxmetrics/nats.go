package fxmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fxforge/fxforge/fxforge"
)

// NATSMetrics is the fxforge.NATSObserver that keeps the series of an
// app's NATS connection:
//
//	fxforge_nats_connected          gauge, 1 while connected, 0 while reconnecting or closed
//	fxforge_nats_reconnects_total   counter
//
// Module provides it to fxnats.Connection; it links no NATS code.
type NATSMetrics struct {
	connected  prometheus.Gauge
	reconnects prometheus.Counter
}

var _ fxforge.NATSObserver = (*NATSMetrics)(nil)

// NewNATSMetrics creates the NATS connection series and registers them
// with reg.
func NewNATSMetrics(reg prometheus.Registerer) (*NATSMetrics, error) {
	m := &NATSMetrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fxforge_nats_connected",
			Help: "1 while the app's NATS connection is up, 0 while it reconnects or once it is closed.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fxforge_nats_reconnects_total",
			Help: "Times the app's NATS connection was established again after a loss.",
		}),
	}
	if err := register(reg, m.connected, m.reconnects); err != nil {
		return nil, err
	}
	return m, nil
}

// Connected sets fxforge_nats_connected to 1.
func (m *NATSMetrics) Connected() { m.connected.Set(1) }

// Disconnected sets fxforge_nats_connected to 0.
func (m *NATSMetrics) Disconnected() { m.connected.Set(0) }

// Reconnected counts a reconnect and sets fxforge_nats_connected to 1.
func (m *NATSMetrics) Reconnected() {
	m.reconnects.Inc()
	m.connected.Set(1)
}
