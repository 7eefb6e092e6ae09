package fxforge

// NATSObserver is told about the state of the app's NATS connection, for
// metrics: fxforge/fxnats reports through the one in the graph, if any, and
// fxforge/fxmetrics provides one that keeps fxforge_nats_connected and
// fxforge_nats_reconnects_total. It lives here, in a package that links
// neither NATS nor Prometheus, so that neither of those packages links the
// other.
//
// Its methods are called one at a time, in the order the events happened
// (from nats.go's callback goroutine), and must return quickly.
type NATSObserver interface {
	// Connected is called once the connection is first established.
	Connected()
	// Disconnected is called when the connection is lost, and when it is
	// closed (on app stop) while connected.
	Disconnected()
	// Reconnected is called each time the connection is established again
	// after a loss.
	Reconnected()
}
