package fxforge

import (
	"fmt"
	"reflect"
)

var errorType = reflect.TypeFor[error]()

// adapt returns a function with ctor's parameters that calls ctor and
// converts its non-error results with conv. fx sees the returned function's
// parameters, so ctor's dependencies are injected as usual.
func adapt[T any](ctor any, conv func(results []reflect.Value) (T, error)) (any, error) {
	v := reflect.ValueOf(ctor)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("%T is not a function", ctor)
	}
	ins := make([]reflect.Type, t.NumIn())
	for i := range ins {
		ins[i] = t.In(i)
	}
	outs := []reflect.Type{reflect.TypeFor[T](), errorType}
	fn := reflect.MakeFunc(reflect.FuncOf(ins, outs, t.IsVariadic()), func(args []reflect.Value) []reflect.Value {
		var res []reflect.Value
		if t.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		if n := len(res); n > 0 && t.Out(n-1) == errorType {
			if !res[n-1].IsNil() {
				return []reflect.Value{reflect.Zero(outs[0]), res[n-1]}
			}
			res = res[:n-1]
		}
		out, err := conv(res)
		errV := reflect.Zero(errorType)
		if err != nil {
			errV = reflect.ValueOf(&err).Elem()
		}
		return []reflect.Value{reflect.ValueOf(&out).Elem(), errV}
	})
	return fn.Interface(), nil
}

// resultTypes returns ctor's result types without a trailing error.
func resultTypes(ctor any) ([]reflect.Type, error) {
	t := reflect.TypeOf(ctor)
	if t == nil || t.Kind() != reflect.Func {
		return nil, fmt.Errorf("%T is not a constructor function", ctor)
	}
	var out []reflect.Type
	for i := 0; i < t.NumOut(); i++ {
		if i == t.NumOut()-1 && t.Out(i) == errorType {
			break
		}
		out = append(out, t.Out(i))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("constructor %s returns nothing to provide", t)
	}
	return out, nil
}
