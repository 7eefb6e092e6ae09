// Package resolve is the type-keyed lookup behind msregistry.Resolve and
// wsgateway.Resolve. Its types are exported to users as aliases in
// msregistry; this package is the one implementation. A Resolver is filled
// once, before it is shared, and read without locks afterwards.
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

// NotRegisteredError is the error of a lookup that did not find its type.
// Its message names the type and the ways to register it.
type NotRegisteredError struct {
	// Type is the type that was looked up.
	Type reflect.Type
}

// Error names the type and both fxforge fixes: fxforge.Provide for a
// constructor, fxforge.Resolvable for a value already in the fx graph.
func (e *NotRegisteredError) Error() string {
	return fmt.Sprintf("resolve %[1]s: type not registered; make it resolvable with fxforge.Provide(<constructor of %[1]s>), "+
		"or, when the fx graph already has it (fx.Provide, fx.Supply, fx.Annotate), with fxforge.Resolvable(new(%[1]s)); "+
		"without fx, register it with msregistry.Register", e.Type)
}

// Is reports whether target is ErrNotRegistered.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

// Resolver maps a type to the one value registered for it.
type Resolver struct {
	values map[reflect.Type]any
}

// New returns an empty Resolver.
func New() *Resolver { return &Resolver{values: make(map[reflect.Type]any)} }

// Len reports how many types are registered.
func (r *Resolver) Len() int {
	if r == nil {
		return 0
	}
	return len(r.values)
}

// Register registers v under the static type T, replacing any earlier value
// for T.
func Register[T any](r *Resolver, v T) { r.values[reflect.TypeFor[T]()] = v }

// Add registers v under t, for callers that know t only at run time (the fx
// wiring). v must be nil or assignable to t, so that Get never fails its
// type assertion.
func Add(r *Resolver, t reflect.Type, v any) error {
	if v != nil && !reflect.TypeOf(v).AssignableTo(t) {
		return fmt.Errorf("resolve: a %T cannot be registered as %s", v, t)
	}
	r.values[t] = v
	return nil
}

// Lookup returns the value registered for t.
func Lookup(r *Resolver, t reflect.Type) (any, bool) {
	if r == nil {
		return nil, false
	}
	v, ok := r.values[t]
	return v, ok
}

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

// Get resolves T from the resolver carried by ctx. A type registered with a
// nil value resolves to T's zero value.
func Get[T any](ctx context.Context) (T, error) {
	t := reflect.TypeFor[T]()
	v, ok := Lookup(FromContext(ctx), t)
	if !ok {
		var zero T
		return zero, &NotRegisteredError{Type: t}
	}
	if v == nil {
		var zero T
		return zero, nil
	}
	return v.(T), nil
}
