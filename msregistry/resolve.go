package msregistry

import (
	"context"

	"github.com/fxforge/fxforge/internal/resolve"
)

// Resolver maps a type to the one value registered for it. It is the one
// resolver type of fxforge: registry handlers, gateway contexts
// (wsgateway.Config.Resolver) and fxforge's HTTP routes all read it. fxforge
// fills it from the fx graph; without fx, build one with NewResolver and
// Register. Register values before the resolver is shared; lookups are safe
// for concurrent use.
type Resolver = resolve.Resolver

// NotRegisteredError is the error Resolve (and wsgateway.Resolve) returns
// for a type that was never registered; its Type field names the type, and
// its message names the ways to register it. Match it with errors.As, or
// with errors.Is and ErrNotRegistered.
type NotRegisteredError = resolve.NotRegisteredError

// ErrNotRegistered is matched (errors.Is) by every NotRegisteredError.
var ErrNotRegistered = resolve.ErrNotRegistered

// NewResolver returns an empty Resolver.
func NewResolver() *Resolver { return resolve.New() }

// Register makes v resolvable as T, replacing any earlier value for T. T is
// the static type, so Register[Store](r, mem) makes mem resolvable as the
// interface Store.
func Register[T any](r *Resolver, v T) { resolve.Register(r, v) }

// Resolve returns the value registered for T in the resolver carried by ctx.
// Handler contexts carry the resolver of the incoming context (a gateway's
// or a route's) or, when it has none, the one given to New with
// WithResolver. A missing type is a *NotRegisteredError.
func Resolve[T any](ctx context.Context) (T, error) { return resolve.Get[T](ctx) }

// ContextWithResolver returns a copy of ctx that carries res. Handlers
// called with it resolve from res rather than from the registry's resolver.
func ContextWithResolver(ctx context.Context, res *Resolver) context.Context {
	return resolve.WithResolver(ctx, res)
}
