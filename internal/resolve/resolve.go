// Package resolve is the type-keyed lookup shared by wsgateway, msregistry
// and fxforge. It is built once at startup and read without locks afterwards.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// ErrNotRegistered is matched (errors.Is) by every lookup of a type that was
// never registered.
var ErrNotRegistered = errors.New("type not registered")

// NotRegisteredError names the type that a lookup did not find and how to
// register it.
type NotRegisteredError struct {
	Type reflect.Type
}

func (e *NotRegisteredError) Error() string {
	return fmt.Sprintf("resolve %s: type not registered; provide it with fxforge.Provide(<constructor returning %s>), "+
		"or without fx with wsgateway.Register or msregistry.Register", e.Type, e.Type)
}

// Is reports whether target is ErrNotRegistered.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

// Resolver maps a type to the one value registered for it. Register values
// before the resolver is shared; lookups are safe for concurrent use.
type Resolver struct {
	values map[reflect.Type]any
}

// New returns an empty Resolver.
func New() *Resolver { return &Resolver{values: make(map[reflect.Type]any)} }

// Set registers v under t, replacing any earlier value for t.
func (r *Resolver) Set(t reflect.Type, v any) { r.values[t] = v }

// Len reports how many types are registered.
func (r *Resolver) Len() int {
	if r == nil {
		return 0
	}
	return len(r.values)
}

// Lookup returns the value registered for t.
func (r *Resolver) Lookup(t reflect.Type) (any, bool) {
	if r == nil {
		return nil, false
	}
	v, ok := r.values[t]
	return v, ok
}

// Register registers v under the static type T.
func Register[T any](r *Resolver, v T) { r.Set(reflect.TypeFor[T](), v) }

type ctxKey struct{}

// WithResolver returns a copy of ctx that carries r.
func WithResolver(ctx context.Context, r *Resolver) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the resolver carried by ctx, or nil.
func FromContext(ctx context.Context) *Resolver {
	r, _ := ctx.Value(ctxKey{}).(*Resolver)
	return r
}

// Get resolves T from the resolver carried by ctx.
func Get[T any](ctx context.Context) (T, error) {
	t := reflect.TypeFor[T]()
	v, ok := FromContext(ctx).Lookup(t)
	if !ok {
		var zero T
		return zero, &NotRegisteredError{Type: t}
	}
	return v.(T), nil
}
