package msregistry

import (
	"context"

	"github.com/fxforge/fxforge/internal/resolve"
)

// Resolver maps a type to the one value registered for it. It is the same
// resolver that wsgateway and fxforge use, so one set of registrations
// serves every handler. Register values before the resolver is shared;
// lookups are safe for concurrent use.
type Resolver = resolve.Resolver

// ErrNotRegistered is matched (errors.Is) by the error Resolve returns for a
// type that was never registered.
var ErrNotRegistered = resolve.ErrNotRegistered

// NewResolver returns an empty Resolver.
func NewResolver() *Resolver { return resolve.New() }

// Register registers v under the static type T, replacing any earlier value
// for T.
func Register[T any](r *Resolver, v T) { resolve.Register(r, v) }

// Resolve returns the value registered for T in the resolver carried by ctx.
// Handler contexts carry the resolver of the incoming context or, when it has
// none, the one given to New with WithResolver. A missing type is an error
// that matches ErrNotRegistered and says how to register it.
func Resolve[T any](ctx context.Context) (T, error) { return resolve.Get[T](ctx) }

// ContextWithResolver returns a copy of ctx that carries res. Handlers
// called with it resolve from res rather than from the registry's resolver.
func ContextWithResolver(ctx context.Context, res *Resolver) context.Context {
	return resolve.WithResolver(ctx, res)
}
