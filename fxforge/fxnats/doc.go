// Package fxnats gives an fx app a NATS connection and serves the app's
// microservice registry over it.
//
// Module (or Connection with options) provides a lifecycle-managed
// *nats.Conn and its *Info. The URL comes from the URL option or NATS_URL;
// with neither, an embedded nats-server starts in-process on 127.0.0.1 with
// a random port, so `go run` of an app needs nothing else, and tests and
// examples exercise the real NATS code path. The startup log says which:
//
//	nats: embedded server listening on nats://127.0.0.1:41207
//	nats: connected to nats://***@nats.internal:4222
//
// The client reconnects forever, a second apart (ReconnectWait), and keeps
// up to 8 MiB of publishes while disconnected (ReconnectBufSize); it logs
// disconnects at warn and reconnects at info. On stop the connection is
// drained, then the embedded server stops.
//
// With fxforge/fxmetrics in the app, the connection reports
// fxforge_nats_connected and fxforge_nats_reconnects_total, and HubBroker's
// broker fxforge_broker_published_total, fxforge_broker_delivered_total and
// fxforge_broker_dropped_total: both take the observers fxmetrics provides
// (fxforge.NATSObserver, wsgateway.BrokerObserver) as optional
// dependencies, so this package links no Prometheus code and an app
// without fxmetrics runs as before.
//
// Microservice serves the app's *msregistry.Registry over that connection
// with natstransport, in NestJS's NATS wire format and with NATS service
// discovery; Client provides an msregistry.Client that calls patterns
// served anywhere on the same NATS:
//
//	fx.New(
//		fxforge.Logger(),
//		fxnats.Module,
//		fxforge.Microservices(),
//		fxforge.Patterns(registerPatterns),
//		fxnats.Microservice(natstransport.Name("users")),
//		fxnats.Client(),
//	).Run()
//
// To run a second app on the embedded server of a first (in a test, say),
// pass the first app's Info.URL to the second with URL.
//
// Importing fxforge, wsgateway, msregistry or identity links no NATS code;
// only this package and the other NATS subpackages do.
package fxnats
