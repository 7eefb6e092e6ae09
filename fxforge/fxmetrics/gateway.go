package fxmetrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fxforge/fxforge/wsgateway"
)

// GatewayMetrics holds the WebSocket series of every gateway of an app:
//
//	fxforge_ws_connections{path}                  gauge
//	fxforge_ws_messages_received_total{path}      counter
//	fxforge_ws_messages_sent_total{path}          counter
//	fxforge_ws_closed_total{path,code}            counter
//	fxforge_ws_dropped_total{path,reason}         counter
//
// Observer gives each gateway its wsgateway.Observer. Module wires it into
// every fxforge.WebSocketModule; without fx, set Config.Observer yourself.
type GatewayMetrics struct {
	connections *prometheus.GaugeVec
	received    *prometheus.CounterVec
	sent        *prometheus.CounterVec
	closed      *prometheus.CounterVec
	dropped     *prometheus.CounterVec
}

// NewGatewayMetrics creates the WebSocket series and registers them with
// reg.
func NewGatewayMetrics(reg prometheus.Registerer) (*GatewayMetrics, error) {
	m := &GatewayMetrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fxforge_ws_connections",
			Help: "WebSocket connections open now.",
		}, []string{"path"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ws_messages_received_total",
			Help: "WebSocket data messages read from peers.",
		}, []string{"path"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ws_messages_sent_total",
			Help: "WebSocket messages written to peers, batched ones counted one by one.",
		}, []string{"path"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ws_closed_total",
			Help: `WebSocket connections ended, by close code ("other" for a code a peer chose outside 1000-1015).`,
		}, []string{"path", "code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fxforge_ws_dropped_total",
			Help: "WebSocket messages not processed (rate_limited) or not delivered (slow_consumer).",
		}, []string{"path", "reason"}),
	}
	if err := register(reg, m.connections, m.received, m.sent, m.closed, m.dropped); err != nil {
		return nil, err
	}
	return m, nil
}

// Observer returns the observer of the gateway at path. Its series are
// looked up once, here, not on every message.
func (m *GatewayMetrics) Observer(path string) wsgateway.Observer {
	return &gatewayObserver{
		connections:  m.connections.WithLabelValues(path),
		received:     m.received.WithLabelValues(path),
		sent:         m.sent.WithLabelValues(path),
		closed:       m.closed.MustCurryWith(prometheus.Labels{"path": path}),
		slowConsumer: m.dropped.WithLabelValues(path, string(wsgateway.DropSlowConsumer)),
		rateLimited:  m.dropped.WithLabelValues(path, string(wsgateway.DropRateLimited)),
		dropped:      m.dropped.MustCurryWith(prometheus.Labels{"path": path}),
	}
}

// gatewayObserver is the wsgateway.Observer of one path.
type gatewayObserver struct {
	connections  prometheus.Gauge
	received     prometheus.Counter
	sent         prometheus.Counter
	closed       *prometheus.CounterVec // curried with the path
	slowConsumer prometheus.Counter
	rateLimited  prometheus.Counter
	dropped      *prometheus.CounterVec // curried with the path, for other reasons
}

func (o *gatewayObserver) ConnOpened() { o.connections.Inc() }

func (o *gatewayObserver) ConnClosed(s wsgateway.CloseStatus) {
	o.connections.Dec()
	o.closed.WithLabelValues(codeLabel(s)).Inc()
}

func (o *gatewayObserver) MessageReceived() { o.received.Inc() }

func (o *gatewayObserver) MessageSent() { o.sent.Inc() }

func (o *gatewayObserver) MessageDropped(reason wsgateway.DropReason) {
	switch reason {
	case wsgateway.DropSlowConsumer:
		o.slowConsumer.Inc()
	case wsgateway.DropRateLimited:
		o.rateLimited.Inc()
	default:
		o.dropped.WithLabelValues(string(reason)).Inc()
	}
}

// codeLabel is the code label of a closed connection. Codes a peer may send
// are many, so only the ones RFC 6455 and its registry define (1000-1015)
// keep their number when the peer chose them; the server's own codes,
// application codes (3000-4999) included, always do.
func codeLabel(s wsgateway.CloseStatus) string {
	c := int(s.Code)
	switch {
	case c >= 1000 && c <= 1015:
	case c >= 3000 && c <= 4999 && !s.ByPeer:
	default:
		return "other"
	}
	return strconv.Itoa(c)
}
