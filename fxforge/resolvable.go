package fxforge

import (
	"errors"
	"fmt"
	"reflect"

	"go.uber.org/dig"
	"go.uber.org/fx"
)

// resolveGroup is the value group through which every resolvable type
// reaches the app's resolver.
const resolveGroup = `group:"fxforge.resolve"`

// resolvable is one value for the app's resolver, as its collector found it
// in the graph.
type resolvable struct {
	typ   reflect.Type
	value any
	// source names the option that made the type resolvable, for errors.
	source string
	// optional is set when the collector took the value as an optional
	// parameter, so a nil value means the graph does not have the type.
	optional bool
}

// missing reports whether the graph had no value for the type.
func (r resolvable) missing() bool {
	if !r.optional {
		return false
	}
	if r.value == nil {
		return true
	}
	v := reflect.ValueOf(r.value)
	return nilable(v.Type()) && v.IsNil()
}

// Resolvable makes types that are already in the fx graph resolvable at run
// time, with wsgateway.Resolve[T] and msregistry.Resolve[T], from every
// gateway Context, registry handler and Route request. Name each type with a
// pointer to it, as fx.As does:
//
//	fx.Supply(&AppConfig{Name: "demo"}),
//	fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
//	fxforge.Resolvable(new(*AppConfig), new(Store)),
//
// However a type got into the graph (fx.Provide with or without fx.Annotate
// and fx.As, fx.Supply, fx.Replace), its value is taken from the graph as a
// constructor parameter would be, once, while the app is built. A value
// decorated with fx.Decorate resolves decorated when Resolvable sits in the
// same fx.Module as the decorator (or below it), exactly as a constructor
// there would see it. A pointer, interface, map, slice, func or channel type
// that the graph does not have fails the app's start with an error naming
// the type and the fix; other types fail with fx's missing-type error.
//
// Constructor injection stays the first choice; Resolvable is for code that
// has only a context. For a constructor of your own, fxforge.Provide does
// both at once.
func Resolvable(types ...any) fx.Option {
	opts := make([]fx.Option, 0, len(types))
	for i, p := range types {
		t, err := resolvableType(p)
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.Resolvable: argument %d: %w", i+1, err))
		}
		opts = append(opts, collectResolvable(t, fmt.Sprintf("fxforge.Resolvable(new(%s))", t), nilable(t)))
	}
	return fx.Options(opts...)
}

// resolvableType returns T for new(T), or an error saying how to name T.
func resolvableType(p any) (reflect.Type, error) {
	if _, ok := p.(fx.Option); ok {
		return nil, fmt.Errorf("%v is an fx.Option; give fx options to fx.New and name the types they provide here, as new(T)", p)
	}
	pt := reflect.TypeOf(p)
	if pt == nil || pt.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%v (%T) is not a pointer; name a type T as new(T), for example new(*AppConfig) or new(Store)", p, p)
	}
	t := pt.Elem()
	switch {
	case dig.IsIn(t) || dig.IsOut(t):
		return nil, fmt.Errorf("%s is an fx.In or fx.Out struct; name the types it holds instead", t)
	case t == errorType:
		return nil, errors.New("error is not a type fx provides; name the type of a value in the graph")
	}
	return t, nil
}

var errorType = reflect.TypeFor[error]()

// collectResolvable returns the provider that takes t from the graph and
// puts it into the resolve group. fx.From maps t onto the collector's any
// parameter, so fx names the provider after this function and t in its logs
// ("fx.Annotate(...fxforge.collectResolvable.func1(), ..., fx.From([*main.AppConfig]))").
// With optional set, a type missing from the graph arrives as nil and the
// resolver reports it, instead of fx failing inside its own generated code.
func collectResolvable(t reflect.Type, source string, optional bool) fx.Option {
	anns := []fx.Annotation{fx.ResultTags(resolveGroup)}
	if optional {
		anns = append(anns, fx.ParamTags(`optional:"true"`))
	}
	anns = append(anns, fx.From(reflect.New(t).Interface()))
	return fx.Provide(fx.Annotate(func(v any) resolvable {
		return resolvable{typ: t, value: v, source: source, optional: optional}
	}, anns...))
}

// nilable reports whether the zero value of t is nil, so that a nil value
// can stand for "not in the graph".
func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}
