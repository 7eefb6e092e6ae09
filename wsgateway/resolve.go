package wsgateway

import (
	"context"

	"github.com/fxforge/fxforge/internal/resolve"
)

// Resolve returns the value registered for T in the resolver that ctx
// carries: a gateway Context, or any context derived from it (a registry
// handler's, for example). A type that was never registered gives a
// *msregistry.NotRegisteredError that names it and says how to register it.
//
// The resolver is Config.Resolver, an *msregistry.Resolver: fxforge fills it
// from the fx graph; without fx, build it with msregistry.NewResolver and
// msregistry.Register.
func Resolve[T any](ctx context.Context) (T, error) { return resolve.Get[T](ctx) }
