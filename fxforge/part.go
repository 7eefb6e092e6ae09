package fxforge

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"
)

// provideAs provides part, an endpoint's gateway or handler, and wrap's
// result built from it. part is a value of the interface I or an fx
// constructor whose first result implements I (desc says what that takes).
// fx gets a constructor as it is, so its logs and errors name it; wrap
// takes the result from the graph through fx.From.
func provideAs[I, W any](part any, private bool, desc string, wrap func(I) W) (fx.Option, error) {
	provide := func(ctors ...any) fx.Option {
		if private {
			return fx.Provide(append([]any{fx.Private}, ctors...)...)
		}
		return fx.Provide(ctors...)
	}
	iface := reflect.TypeFor[I]()
	if part == nil {
		return nil, fmt.Errorf("nil; pass a constructor, or a value that implements %s", iface)
	}
	if v, ok := part.(I); ok {
		// A value is not a constructor: fx would read the parameters of a
		// function type such as wsgateway.GatewayFunc as dependencies.
		return provide(func() W { return wrap(v) }), nil
	}
	t := reflect.TypeOf(part)
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("%v (%T) is neither a constructor function nor a value that implements %s; "+
			"for fx.Annotate, give a plain constructor and take named dependencies with an fx.In parameter struct", part, part, iface)
	}
	if t.NumOut() == 0 || !t.Out(0).Implements(iface) {
		return nil, fmt.Errorf("the first result of constructor %s must implement %s (%s)", funcName(part), iface, desc)
	}
	return provide(part, fx.Annotate(wrap, fx.From(reflect.New(t.Out(0)).Interface()))), nil
}
