// Package wsgateway serves WebSocket gateways: the upgrade handler, the
// per-connection Context and Conn, and the adapter that feeds JSON
// microservice frames into an msregistry.Registry.
//
// A gateway implements one method, OnConnect, which runs for each accepted
// connection and owns it until it returns:
//
//	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
//		if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
//			return err
//		}
//		return wsgateway.Serve(ctx, conn, registry) // or a conn.Read loop of your own
//	})
//	http.Handle("/ws", wsgateway.Handler(gw, wsgateway.Config{}))
//
// Handler (or NewServer, which adds Shutdown) is a plain http.Handler: it
// mounts on http.ServeMux, chi or any router, with no fx involved. Before the
// upgrade it checks the method, the upgrade headers, the Origin (same origin
// only unless Config.OriginPatterns allows more), the connection cap and the
// authenticator and guards; each refusal is a JSON body carrying the request
// id, and no upgrade happens.
//
// The Context is a context.Context cancelled when the connection ends (never
// the upgrade request's context). It carries the request id, the identity,
// the upgrade request's headers, a logger tagged with the request id, and
// typed resolution: Resolve[T](ctx) looks T up in the Config's Resolver,
// which fxforge fills from the fx graph.
//
// Conn writes are safe from any goroutine and never block: each connection
// has a bounded outbound queue drained by a writer that runs only while the
// queue is non-empty. A peer that falls behind is closed with 1013 and never
// slows down anyone else. Heartbeats, limits, rate limiting and graceful
// shutdown are described on Config and Server.Shutdown; docs/operations.md
// has the table of close codes and HTTP statuses.
package wsgateway
