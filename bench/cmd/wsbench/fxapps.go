package main

import (
	"fmt"
	"sync/atomic"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/wsgateway"
)

// The fxforge servers are fx apps built as a user builds one: the logger and
// HTTP server fxforge provides, a gateway constructor, a WebSocketModule,
// and no tuning (default wsgateway config: 25 s heartbeat, 256-message
// queues). The logger is fxforge.Logger() at its default level, info, as in
// examples/hello-websockets: it prints the startup lines and nothing per
// connection or message, so it costs no CPU in a measured window.

// echoApp is an fx app whose gateway echoes every message.
func echoApp(addr string) fx.Option {
	return fx.Options(
		fxforge.Logger(),
		fxforge.HTTPServer(fxforge.Addr(addr)),
		fxforge.Gateway(newEchoGateway),
		fxforge.WebSocketModule("/ws"),
	)
}

// echoGateway echoes every message through Conn's write path.
type echoGateway struct{}

func newEchoGateway() *echoGateway { return &echoGateway{} }

func (*echoGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if err := conn.Write(typ, data); err != nil {
			return err
		}
	}
}

// fanoutRoom is the room every connection of the fan-out servers joins.
const fanoutRoom = "bench"

// fanoutApp is an fx app with a Hub: every connection joins one room, and a
// connection that sends "publish N SIZE" has N messages of SIZE bytes sent
// to everyone else in the room with hub.Send.
func fanoutApp(addr string) fx.Option {
	return fx.Options(
		fxforge.Logger(),
		fxforge.HTTPServer(fxforge.Addr(addr)),
		fxforge.Hub(), // every WebSocketModule serves its connections with it
		fxforge.Gateway(newFanoutGateway),
		fxforge.WebSocketModule("/ws"),
	)
}

// fanoutGateway puts each connection in fanoutRoom and publishes to the
// room what its publisher asks for.
type fanoutGateway struct {
	hub *wsgateway.Hub
	seq atomic.Uint64 // the last message's sequence number
}

func newFanoutGateway(hub *wsgateway.Hub) *fanoutGateway { return &fanoutGateway{hub: hub} }

func (g *fanoutGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if err := g.hub.Join(conn, fanoutRoom); err != nil {
		return err
	}
	others := wsgateway.ToRoom(fanoutRoom).Except(conn.ID())
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		n, size, err := parsePublish(data)
		if err != nil {
			ctx.Logger().Warn(badPublish, zap.Error(err))
			return conn.Close(wsgateway.StatusPolicyViolation, badPublish)
		}
		for range n {
			if err := g.hub.Send(ctx, others, tickFrame(g.seq.Add(1), size)); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
		}
	}
}
