// Command chat is a small multi-room chat: an HTML page at / and its
// WebSocket gateway at /ws, with rooms held by the app's hub.
//
//	go run ./examples/chat                 # http://localhost:3000 (PORT overrides)
//
// Rooms span every instance that shares NATS: with NATS_URL unset each
// instance starts an embedded NATS server of its own; start several with the
// same NATS_URL (and different PORTs) and they share rooms:
//
//	NATS_URL=nats://127.0.0.1:4222 PORT=3000 go run ./examples/chat
//	NATS_URL=nats://127.0.0.1:4222 PORT=3001 go run ./examples/chat
//
// The page and any client speak microservice frames:
//
//	> {"kind":"message","pattern":"chat.join","payload":{"room":"lobby","name":"ann"},"metadata":{},"id":"1"}
//	< {"kind":"response","pattern":"chat.join","id":"1","payload":{"room":"lobby","members":1},"metadata":{}}
//	> {"kind":"message","pattern":"chat.send","payload":{"room":"lobby","text":"hi"},"metadata":{},"id":"2"}
//	< {"kind":"response","pattern":"chat.send","id":"2","payload":{"room":"lobby"},"metadata":{}}
//
// and every other member of the room gets
//
//	< {"kind":"event","pattern":"chat.message","payload":{"room":"lobby","name":"ann","text":"hi","from":"..."},"metadata":{}}
//
// chat.leave with {"room":"lobby"} leaves the room.
package main

import (
	_ "embed"
	"net/http"

	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/webclient"
)

//go:embed static/index.html
var page []byte

func main() {
	fx.New(App("")).Run()
}

// App is the chat app; addr "" means PORT, or :3000. nats are the options
// of its NATS connection (none: NATS_URL, or an embedded server).
func App(addr string, nats ...fxnats.Option) fx.Option {
	server := fxforge.HTTPServer()
	if addr != "" {
		server = fxforge.HTTPServer(fxforge.Addr(addr))
	}
	return fx.Options(
		fxforge.Logger(),
		server,
		fxnats.Connection(nats...), // NATS_URL, or an embedded server
		fxnats.HubBroker(),         // instances on the same NATS share rooms
		fxforge.Hub(),
		fxforge.Microservices(),
		fx.Provide(NewChat),
		fxforge.Patterns((*Chat).Register),
		fxforge.Gateway(NewGateway),
		// One frame at a time per connection, so one sender's messages
		// reach the room in the order they were sent, on every instance.
		fxforge.WebSocketModule("/ws", fxforge.WithConfig(func() wsgateway.Config {
			return wsgateway.Config{MaxConcurrency: 1}
		})),
		fxforge.Route("GET /{$}", func() http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write(page)
			})
		}),
		fxforge.Route("GET /fxforge-client.js", webclient.Handler),
		fxmetrics.Module, // /metrics, /healthz and /readyz
	)
}
