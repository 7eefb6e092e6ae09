package fxforge

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/msregistry"
)

// registryResolver is the resolver the registry falls back on for contexts
// that carry none (a LocalClient called from a background goroutine, a
// network transport): the app's, or, in an app without HTTPServer, one the
// registry fills itself.
type registryResolver struct {
	res *appResolver
	own bool
}

type registryResolverIn struct {
	fx.In
	App *appResolver `optional:"true"`
}

func newRegistryResolver(in registryResolverIn) registryResolver {
	if in.App != nil {
		return registryResolver{res: in.App}
	}
	return registryResolver{res: newAppResolver(), own: true}
}

// fillRegistryResolver fills the registry's resolver when the app has no
// HTTPServer to provide one.
func fillRegistryResolver(rr registryResolver, in resolvablesIn) error {
	if !rr.own {
		return nil
	}
	return rr.res.fill(in.Values)
}

type registryIn struct {
	fx.In
	Logger   *zap.Logger         `optional:"true"`
	Observer msregistry.Observer `optional:"true"`
	Resolver registryResolver
}

func newRegistry(in registryIn) *msregistry.Registry {
	log := in.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return msregistry.New(msregistry.WithLogger(log.Named("ms")), msregistry.WithResolver(in.Resolver.res.r), msregistry.WithObserver(in.Observer))
}

// Microservices provides the app's *msregistry.Registry, with the app's
// logger and the app's resolver, so every type made resolvable with Provide
// or Resolvable resolves in handler contexts, including contexts that carry
// no resolver of their own. Gateways that serve only some of its patterns
// take a view of it with Registry.Subset. An msregistry.Observer in the
// graph (fxforge/fxmetrics provides one) observes every call.
func Microservices() fx.Option {
	return fx.Module("fxforge.Microservices",
		fx.Provide(fx.Private, newRegistryResolver),
		fx.Provide(newRegistry),
		fx.Invoke(fillRegistryResolver),
	)
}

// Patterns registers message and event handlers from the graph: register is
// a function whose parameters are injected (the *msregistry.Registry among
// them) and which returns an error, for example
//
//	fxforge.Patterns(func(reg *msregistry.Registry, users *UserService) error {
//		return msregistry.Message(reg, "users.count", users.Count,
//			msregistry.WithGuards(identity.Authenticated()))
//	})
//
// It runs while the app is built, before it starts, so every pattern is in
// place when the first frame arrives.
func Patterns(register any) fx.Option { return fx.Invoke(register) }
