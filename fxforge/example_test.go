package fxforge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Settings is a service that the example resolves through contexts.
type Settings struct{ Greeting string }

// EchoGateway greets, then serves frames through the app's registry.
type EchoGateway struct{ reg *msregistry.Registry }

func (g *EchoGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	s, err := wsgateway.Resolve[*Settings](ctx)
	if err != nil {
		return err
	}
	if err := conn.WriteText(s.Greeting); err != nil {
		return err
	}
	return wsgateway.Serve(ctx, conn, g.reg)
}

// Example builds an app the way a service would, on a free port, and talks
// to it over a real WebSocket.
func Example() {
	var srv *fxforge.Server
	app := fx.New(
		fx.NopLogger, // fxforge.Logger() in a real app
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		// Provided to the graph and resolvable from every context.
		fxforge.Provide(func() *Settings { return &Settings{Greeting: "welcome"} }),
		fxforge.Microservices(),
		fxforge.Patterns(func(reg *msregistry.Registry, s *Settings) error {
			return msregistry.Message(reg, "greet", func(_ context.Context, name string) (string, error) {
				return s.Greeting + ", " + name, nil
			})
		}),
		// The gateway's dependencies come by constructor injection.
		fxforge.Gateway(func(reg *msregistry.Registry) *EchoGateway { return &EchoGateway{reg: reg} }),
		fxforge.WebSocketModule("/ws"),
		fx.Populate(&srv),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(ctx)

	c, _, err := websocket.Dial(ctx, "ws://"+srv.Addr().String()+"/ws", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"kind":"message","pattern":"greet","payload":"ada","metadata":{},"id":7}`))
	_, msg, _ = c.Read(ctx)
	fmt.Println(string(msg))
	c.Close(websocket.StatusNormalClosure, "")
	// Output:
	// welcome
	// {"kind":"response","pattern":"greet","id":7,"payload":"welcome, ada","metadata":{}}
}
