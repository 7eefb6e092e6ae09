package fxforge

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/msregistry"
)

type registryIn struct {
	fx.In
	Logger   *zap.Logger         `optional:"true"`
	Observer msregistry.Observer `optional:"true"`
	Resolver resolverIn
}

// Microservices provides the app's *msregistry.Registry, with the app's
// logger and with every type registered through Provide resolvable from
// handler contexts. An msregistry.Observer in the graph (fxforge/fxmetrics
// provides one) observes every call.
func Microservices() fx.Option {
	return fx.Provide(func(in registryIn) *msregistry.Registry {
		log := in.Logger
		if log == nil {
			log = zap.NewNop()
		}
		return msregistry.New(msregistry.WithLogger(log.Named("ms")), msregistry.WithResolver(in.Resolver.resolver()), msregistry.WithObserver(in.Observer))
	})
}

// Patterns registers message and event handlers from the graph: register is
// a function whose parameters are injected (the *msregistry.Registry among
// them) and which returns an error, for example
//
//	fxforge.Patterns(func(reg *msregistry.Registry, users *UserService) error {
//		return msregistry.Message(reg, "users.count", users.Count)
//	})
//
// It runs while the app is built, before it starts, so every pattern is in
// place when the first frame arrives.
func Patterns(register any) fx.Option { return fx.Invoke(register) }
