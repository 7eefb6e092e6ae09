package fxforge

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/wsgateway"
)

type hubIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Logger    *zap.Logger      `optional:"true"`
	Broker    wsgateway.Broker `optional:"true"`
}

// Hub provides the app's *wsgateway.Hub: rooms and broadcast across every
// WebSocketModule of the app, which all serve their connections with it.
// Gateways and registry handlers take it as a constructor parameter. When a
// wsgateway.Broker is in the graph (fxnats.HubBroker puts the NATS one
// there), hubs in several processes share rooms; the hub subscribes on
// start and unsubscribes on stop.
func Hub() fx.Option {
	return fx.Provide(func(in hubIn) *wsgateway.Hub {
		log := in.Logger
		if log == nil {
			log = zap.NewNop()
		}
		hub := wsgateway.NewHub(wsgateway.HubConfig{Broker: in.Broker, Logger: log.Named("hub")})
		in.Lifecycle.Append(fx.Hook{
			OnStart: func(ctx context.Context) error { return hub.Start(ctx) },
			OnStop:  func(context.Context) error { return hub.Close() },
		})
		return hub
	})
}
