// Package fxmetrics gives an fxforge app Prometheus metrics, a liveness and
// a readiness probe. It is the only fxforge package that imports the
// Prometheus client: an app that does not import it links none of it.
//
//	fx.New(
//		fxforge.Logger(),
//		fxforge.HTTPServer(),
//		fxforge.Microservices(),
//		fxforge.Gateway(NewEventsGateway),
//		fxforge.WebSocketModule("/ws"),
//		fxmetrics.Module, // GET /metrics, /healthz, /readyz on the same server
//	).Run()
//
// Every WebSocketModule then reports fxforge_ws_connections,
// fxforge_ws_messages_received_total, fxforge_ws_messages_sent_total,
// fxforge_ws_closed_total and fxforge_ws_dropped_total for its path, and
// the registry fxforge_ms_handled_total, fxforge_ms_handle_duration_seconds
// and fxforge_ms_unknown_pattern_total; the Go runtime and process
// collectors come along. An app with fxforge/fxnats also reports its NATS
// connection (fxforge_nats_connected, fxforge_nats_reconnects_total) and,
// with fxnats.HubBroker, the hub messages shared with its other processes
// (fxforge_broker_published_total, fxforge_broker_delivered_total,
// fxforge_broker_dropped_total); fxmetrics takes those events through
// fxforge.NATSObserver and wsgateway.BrokerObserver, so it links no NATS
// code, and an app without NATS has none of these series.
// docs/operations.md lists every series, what to alert on and a scrape
// configuration.
//
// The app's *prometheus.Registry is in the graph (never the global default
// registry), so the app's own metrics are served on the same endpoint:
//
//	fx.Invoke(func(reg *prometheus.Registry) error {
//		return reg.Register(ordersPlaced)
//	})
//
// /readyz answers 503 while the app starts, 200 once it has started, and 503
// again from the moment it begins to stop, while the gateways still drain
// their connections; /healthz answers 200 while the process serves. Options
// move the endpoints (MetricsPath, HealthPath, ReadyPath) or put them on a
// server of their own (Addr), and hold the stop for load balancers to
// notice (DrainDelay).
//
// Without fx, NewGatewayMetrics gives a wsgateway.Config its Observer,
// NewRegistryMetrics is an msregistry.Observer and NewBrokerMetrics a
// wsgateway.BrokerObserver (natsbroker.WithObserver).
package fxmetrics
