package wsgateway

import (
	"context"

	"github.com/fxforge/fxforge/internal/resolve"
)

// Resolver maps a type to one value, for Resolve. fxforge.Provide fills it
// from the fx graph; without fx, build one with NewResolver and Register.
type Resolver = resolve.Resolver

// ErrNotRegistered is matched by the error Resolve returns for a type that
// was never registered.
var ErrNotRegistered = resolve.ErrNotRegistered

// NewResolver returns an empty Resolver.
func NewResolver() *Resolver { return resolve.New() }

// Register makes v resolvable as T.
func Register[T any](r *Resolver, v T) { resolve.Register(r, v) }

// Resolve returns the value registered for T in the resolver that ctx
// carries (a gateway Context, or any context derived from it). A type that
// was never registered gives an error that names it and says how to
// register it.
func Resolve[T any](ctx context.Context) (T, error) { return resolve.Get[T](ctx) }
