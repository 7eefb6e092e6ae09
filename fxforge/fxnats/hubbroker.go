package fxnats

import (
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

type hubBrokerIn struct {
	fx.In
	Conn     *nats.Conn
	Logger   *zap.Logger              `optional:"true"`
	Observer wsgateway.BrokerObserver `optional:"true"`
}

// HubBroker puts a wsgateway.Broker on the app's NATS connection into the
// graph, so the app's hub (fxforge.Hub) shares rooms and broadcast with
// every other process of the app on the same NATS: the same app, started
// with the same NATS_URL, scales out. opts go to natsbroker.New after the
// app's logger and the wsgateway.BrokerObserver in the graph, if any
// (fxforge/fxmetrics provides one, wherever it stands among the app's
// options), for example natsbroker.WithSubject to keep two apps on one
// NATS apart.
//
//	fx.New(
//		fxforge.Logger(),
//		fxforge.HTTPServer(),
//		fxnats.Module,      // NATS_URL, or an embedded server
//		fxnats.HubBroker(), // hubs on the same NATS share rooms
//		fxforge.Hub(),
//		...
//	)
func HubBroker(opts ...natsbroker.Option) fx.Option {
	return fx.Provide(func(in hubBrokerIn) wsgateway.Broker {
		log := in.Logger
		if log == nil {
			log = zap.NewNop()
		}
		all := append([]natsbroker.Option{
			natsbroker.WithLogger(log.Named("hub.nats")),
			natsbroker.WithObserver(in.Observer),
		}, opts...)
		return natsbroker.New(in.Conn, all...)
	})
}
