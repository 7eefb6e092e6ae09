// Package fxforge assembles fxforge's pieces into an fx app. It holds fx
// options only; the behaviour lives in wsgateway, msregistry and identity,
// which work without fx too.
//
//	fx.New(
//		fxforge.Logger(),                      // zap, and fx's own events through it
//		fxforge.HTTPServer(),                  // :3000 unless PORT or fxforge.Addr says otherwise
//		fx.Provide(NewAppConfig),              // plain fx: constructors, fx.Supply, fx.Annotate, ...
//		fxforge.Resolvable(new(*AppConfig)),   // ... and the types code with only a context resolves
//		fx.Provide(NewWSConfig),               // the gateways' wsgateway.Config, from the graph
//		fxforge.Microservices(),               // the *msregistry.Registry
//		fxforge.Patterns(registerPatterns),    // message and event handlers, registered from the graph
//		fxforge.Gateway(NewEventsGateway),     // a gateway is an fx constructor: constructor injection
//		fxforge.WebSocketModule("/ws"),        // serves that gateway at /ws
//		fxforge.Route("GET /health", health),  // a plain HTTP route, public
//	).Run()
//
// # Typed resolution
//
// Constructor injection stays the first choice: a gateway's constructor
// takes its dependencies as parameters. Code that has only a context (a
// registry handler, a function several layers down) resolves a type with
// wsgateway.Resolve[T] or msregistry.Resolve[T] instead, from gateway
// contexts, registry handlers and the requests of Route handlers alike.
// Resolvable(new(T)...) names the types to make resolvable, however they got
// into the graph (fx.Provide with or without fx.Annotate and fx.As,
// fx.Supply, fx.Replace, fx.Decorate); Provide(ctor) is the shorthand for
// fx.Provide(ctor) plus Resolvable for its results. The values are collected
// through an fx value group into one resolver, built once while the app is
// built and shared by every gateway, route and the registry, so a lookup is
// a map read. A type nobody made resolvable is a *msregistry.NotRegisteredError
// that names both fixes.
//
// # Settings from the graph
//
// A WebSocketModule's settings are the wsgateway.Config in the graph (or
// its own, WithConfig): build it with an fx constructor from the app's
// configuration, and replace (fx.Replace) or decorate (fx.Decorate) it in
// tests. The environment (PORT, LOG_LEVEL, APP_ENV) is read when the app is
// built, not when an option is called. Options follow one rule: a setting
// is named after what it sets (Addr, LogLevel, ReadHeaderTimeout), and a part
// attached to an endpoint is With<Part> (WithGateway, WithConfig, WithAuth).
//
// # Authentication
//
// With an identity.Authenticator in the graph, every WebSocketModule
// authenticates its upgrades (its Config may name another authenticator, and
// guards), and a Route authenticates only under WithAuth: a public route is
// never refused for a header it does not need. Registry patterns carry
// their own guards (msregistry.WithGuards).
//
// # Lifecycle
//
// HTTPServer binds its port in OnStart, so a busy port fails app start with
// an error naming the address. On stop it closes every WebSocket with 1001
// (after in-flight requests have replied), shuts down Route handlers that
// have a Shutdown method (a *wsgateway.Server, for example), waits for them,
// then shuts the HTTP server down gracefully. Every request gets a request
// id.
//
// An app may have several WebSocketModules: each serves the default gateway
// (Gateway) or its own (WithGateway), and a gateway may serve a view of the
// registry (msregistry.Registry.Subset) so that each endpoint exposes its own
// patterns only.
package fxforge
