// Package fxforge assembles fxforge's pieces into an fx app. It holds fx
// options only; the behaviour lives in wsgateway, msregistry and identity,
// which work without fx too.
//
//	fx.New(
//		fxforge.Logger(),                  // zap, and fx's own events through it
//		fxforge.HTTPServer(),              // :3000 unless PORT or fxforge.Addr says otherwise
//		fxforge.Provide(NewAppConfig),     // provided to the graph AND resolvable from contexts
//		fxforge.Microservices(),           // the *msregistry.Registry
//		fxforge.Patterns(registerPatterns), // message and event handlers, registered from the graph
//		fxforge.Gateway(NewEventsGateway), // a gateway is an fx provider with constructor injection
//		fxforge.WebSocketModule("/ws"),    // serves that gateway at /ws
//	).Run()
//
// Constructor injection stays the first choice: a gateway's constructor
// takes its dependencies as parameters. Types registered with Provide are
// also resolvable at run time, with wsgateway.Resolve[T] or
// msregistry.Resolve[T], from gateway contexts, registry handlers and the
// requests of Route handlers: one DI flow for all of them. Provide collects
// the values through an fx value group into one type-keyed map, built at
// startup, so a lookup is a map read.
//
// HTTPServer binds its port in OnStart, so a busy port fails app start with
// an error naming the address. On stop it closes every WebSocket with 1001
// (after in-flight requests have replied), waits for the gateways, then
// shuts the HTTP server down gracefully. Every request gets a request id,
// and an identity when an identity.Authenticator is in the graph.
//
// An app may have several WebSocketModules: each serves the default gateway
// (Gateway) or its own (WithGateway).
package fxforge
