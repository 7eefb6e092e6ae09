package fxforge

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"go.uber.org/dig"
	"go.uber.org/fx"
)

// Provide is the shorthand for a constructor of your own whose results
// should be resolvable: fxforge.Provide(NewAppConfig) is
// fx.Provide(NewAppConfig) plus fxforge.Resolvable for each result type the
// constructor declares (a trailing error aside). The constructor is given to
// fx as it is, so fx's logs and errors name it.
//
// fx.Private may be given too, as to fx.Provide: the constructor's results
// stay private to the enclosing fx.Module, and are still resolvable from
// contexts, since the app has one resolver.
//
// Provide takes plain constructor functions only. For fx.Annotate,
// fx.Annotated, a constructor returning an fx.Out struct, or a value,
// provide it with fx.Provide or fx.Supply and name its types with
// Resolvable; the error says so.
func Provide(ctors ...any) fx.Option {
	var private bool
	var plain []any
	for _, c := range ctors {
		if c == any(fx.Private) {
			private = true
			continue
		}
		plain = append(plain, c)
	}
	opts := make([]fx.Option, 0, 2*len(plain))
	for _, ctor := range plain {
		types, err := constructorResults(ctor)
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.Provide: %w", err))
		}
		if private {
			opts = append(opts, fx.Provide(fx.Private, ctor))
		} else {
			opts = append(opts, fx.Provide(ctor))
		}
		source := fmt.Sprintf("fxforge.Provide(%s)", funcName(ctor))
		for _, t := range types {
			opts = append(opts, collectResolvable(t, source, false))
		}
	}
	return fx.Options(opts...)
}

// constructorResults returns the types ctor provides, or an error that
// names the fix for anything that is not a plain constructor.
func constructorResults(ctor any) ([]reflect.Type, error) {
	if ctor == nil {
		return nil, fmt.Errorf("nil constructor")
	}
	if _, ok := ctor.(fx.Option); ok {
		return nil, fmt.Errorf("%v is an fx.Option, not a constructor; pass it to fx.New directly", ctor)
	}
	t := reflect.TypeOf(ctor)
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("%v (%T) is not a constructor function; provide it with fx.Provide (fx.Supply for a value) "+
			"and make the types it provides resolvable with fxforge.Resolvable(new(T))", ctor, ctor)
	}
	var out []reflect.Type
	for i := range t.NumOut() {
		r := t.Out(i)
		if i == t.NumOut()-1 && r == errorType {
			break
		}
		if dig.IsOut(r) {
			return nil, fmt.Errorf("%s returns the fx.Out struct %s; provide it with fx.Provide and name the types to resolve with fxforge.Resolvable(new(T))", funcName(ctor), r)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("constructor %s returns nothing to provide", funcName(ctor))
	}
	return out, nil
}

// funcName names fn as fx does in its logs, without the module path.
func funcName(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return fmt.Sprintf("%T", fn)
	}
	name := f.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}
