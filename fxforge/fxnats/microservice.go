package fxnats

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

type microserviceIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Conn      *nats.Conn
	Registry  *msregistry.Registry
	Logger    *zap.Logger `optional:"true"`
}

// Microservice serves the app's *msregistry.Registry (fxforge.Microservices)
// over the app's NATS connection (Connection or Module) with
// natstransport, in NestJS's wire format and with NATS service discovery,
// and provides the *natstransport.Server. It subscribes every pattern in
// OnStart, after fxforge.Patterns has registered them, and on stop drains
// the subscriptions and waits for running calls before the connection is
// drained. The app's logger, if any, comes first in opts.
//
//	fx.New(
//		fxforge.Logger(),
//		fxnats.Module,                                  // NATS_URL, or an embedded server
//		fxforge.Microservices(),
//		fxforge.Patterns(registerPatterns),
//		fxnats.Microservice(natstransport.Name("users")),
//	).Run()
func Microservice(opts ...natstransport.ServerOption) fx.Option {
	return fx.Options(
		fx.Provide(func(in microserviceIn) (*natstransport.Server, error) {
			log := in.Logger
			if log == nil {
				log = zap.NewNop()
			}
			all := append([]natstransport.ServerOption{natstransport.Logger(log.Named("ms.nats"))}, opts...)
			srv, err := natstransport.NewServer(in.Conn, in.Registry, all...)
			if err != nil {
				return nil, err
			}
			in.Lifecycle.Append(fx.Hook{
				OnStart: func(context.Context) error { return srv.Start() },
				OnStop:  srv.Stop,
			})
			return srv, nil
		}),
		fx.Invoke(func(*natstransport.Server) {}),
	)
}

// Client provides a *natstransport.Client on the app's NATS connection,
// also as msregistry.Client, so code that sends messages and emits events
// takes an msregistry.Client and does not care how it travels.
func Client(opts ...natstransport.ClientOption) fx.Option {
	return fx.Provide(
		func(nc *nats.Conn) *natstransport.Client { return natstransport.NewClient(nc, opts...) },
		func(c *natstransport.Client) msregistry.Client { return c },
	)
}
