package fxmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fxforge/fxforge/wsgateway"
)

// BrokerMetrics is the wsgateway.BrokerObserver that keeps the series of
// an app's hub broker (the one that carries rooms and broadcast between
// the app's processes):
//
//	fxforge_broker_published_total          counter
//	fxforge_broker_delivered_total          counter
//	fxforge_broker_dropped_total{reason}    counter, reason publish_failed, decode_failed or slow_consumer
//
// A message a hub hands to the broker counts once, as published or as
// dropped (publish_failed); a message the broker hands to this process's
// hub counts once as delivered, whatever the number of recipients, and the
// process's own messages coming back count too (its hub skips them). So
// in a fleet whose every process is connected, each process's delivered
// rate is the fleet's published rate. Module provides it to fxnats.HubBroker;
// without fx, pass it to natsbroker.WithObserver.
type BrokerMetrics struct {
	published     prometheus.Counter
	delivered     prometheus.Counter
	dropped       *prometheus.CounterVec
	publishFailed prometheus.Counter
	decodeFailed  prometheus.Counter
	slowConsumer  prometheus.Counter
}

var _ wsgateway.BrokerObserver = (*BrokerMetrics)(nil)

// NewBrokerMetrics creates the broker series and registers them with reg.
func NewBrokerMetrics(reg prometheus.Registerer) (*BrokerMetrics, error) {
	m := &BrokerMetrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fxforge_broker_published_total",
			Help: "Hub messages handed to the broker for the app's other processes (NATS), the reconnect buffer included.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fxforge_broker_delivered_total",
			Help: "Hub messages the broker handed to this process's hub, once per message whatever the recipients, this process's own included.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_broker_dropped_total",
			Help: "Hub messages the broker could not publish (publish_failed), that were not hub messages (decode_failed), or that the transport dropped while this process's hub was behind (slow_consumer).",
		}, []string{"reason"}),
	}
	m.publishFailed = m.dropped.WithLabelValues(string(wsgateway.BrokerPublishFailed))
	m.decodeFailed = m.dropped.WithLabelValues(string(wsgateway.BrokerDecodeFailed))
	m.slowConsumer = m.dropped.WithLabelValues(string(wsgateway.BrokerSlowConsumer))
	if err := register(reg, m.published, m.delivered, m.dropped); err != nil {
		return nil, err
	}
	return m, nil
}

// Published counts a message handed to the broker's transport.
func (m *BrokerMetrics) Published() { m.published.Inc() }

// Delivered counts a message handed to the hub.
func (m *BrokerMetrics) Delivered() { m.delivered.Inc() }

// Dropped counts a message dropped for reason.
func (m *BrokerMetrics) Dropped(reason wsgateway.BrokerDropReason) {
	switch reason {
	case wsgateway.BrokerPublishFailed:
		m.publishFailed.Inc()
	case wsgateway.BrokerDecodeFailed:
		m.decodeFailed.Inc()
	case wsgateway.BrokerSlowConsumer:
		m.slowConsumer.Inc()
	default:
		m.dropped.WithLabelValues(string(reason)).Inc()
	}
}
