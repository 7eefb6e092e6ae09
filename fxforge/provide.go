package fxforge

import (
	"fmt"
	"reflect"

	"go.uber.org/dig"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/internal/resolve"
)

const resolveGroup = `group:"fxforge.resolve,flatten"`

// resolvable is one value for the type-keyed resolver.
type resolvable struct {
	typ   reflect.Type
	value any
}

// Provide provides each constructor's results to the fx graph, exactly as
// fx.Provide does, and also makes them resolvable at run time with
// wsgateway.Resolve[T] and msregistry.Resolve[T], keyed by the constructor's
// declared result types. Constructors that return fx.Out structs are not
// supported: use fx.Provide for those.
func Provide(ctors ...any) fx.Option {
	opts := make([]fx.Option, 0, 2*len(ctors))
	for _, ctor := range ctors {
		types, err := resultTypes(ctor)
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.Provide: %w", err))
		}
		for _, t := range types {
			if dig.IsOut(t) {
				return fx.Error(fmt.Errorf("fxforge.Provide: %s is an fx.Out struct; use fx.Provide for it", t))
			}
		}
		// collect takes the constructor's results from the graph and turns
		// them into resolver entries.
		ins := types
		collect := reflect.MakeFunc(
			reflect.FuncOf(ins, []reflect.Type{reflect.TypeFor[[]resolvable]()}, false),
			func(args []reflect.Value) []reflect.Value {
				out := make([]resolvable, len(args))
				for i, a := range args {
					out[i] = resolvable{typ: types[i], value: a.Interface()}
				}
				return []reflect.Value{reflect.ValueOf(out)}
			})
		opts = append(opts,
			fx.Provide(ctor),
			fx.Provide(fx.Annotate(collect.Interface(), fx.ResultTags(resolveGroup))),
		)
	}
	return fx.Options(opts...)
}

// resolverIn receives every value registered with Provide.
type resolverIn struct {
	fx.In
	Values []resolvable `group:"fxforge.resolve"`
}

func (p resolverIn) resolver() *resolve.Resolver {
	r := resolve.New()
	for _, v := range p.Values {
		r.Set(v.typ, v.value)
	}
	return r
}
