package fxforge

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"go.uber.org/fx"

	"github.com/fxforge/fxforge/internal/resolve"
	"github.com/fxforge/fxforge/msregistry"
)

// appResolver is the app's one resolver. HTTPServer provides it empty and
// fills it in an fx.Invoke, once, from the resolve group, before the app
// starts; gateways, routes and the registry hold it from the start. Nothing
// needs the resolvable values to construct it, so a resolvable service may
// depend on the registry or a gateway without a dependency cycle.
type appResolver struct {
	r *msregistry.Resolver
}

func newAppResolver() *appResolver { return &appResolver{r: msregistry.NewResolver()} }

// resolvablesIn receives every value made resolvable with Provide or
// Resolvable.
type resolvablesIn struct {
	fx.In
	Values []resolvable `group:"fxforge.resolve"`
}

// fillAppResolver builds the app's resolver; HTTPServer invokes it.
func fillAppResolver(res *appResolver, in resolvablesIn) error { return res.fill(in.Values) }

// fill registers values. A type that several options make resolvable must
// have the same value everywhere; a type the graph lacks is an error that
// names the option and the fix.
func (a *appResolver) fill(values []resolvable) error {
	// fx hands value groups over in random order: sort, so errors are stable.
	values = slices.Clone(values)
	slices.SortFunc(values, func(x, y resolvable) int {
		return cmp.Or(cmp.Compare(x.typ.String(), y.typ.String()), cmp.Compare(x.source, y.source))
	})
	var errs []error
	seen := make(map[reflect.Type]resolvable, len(values))
	for _, v := range values {
		if v.missing() {
			errs = append(errs, fmt.Errorf("%s: the fx graph has no %s here (or it is nil, or fx.Private to another fx.Module); provide it with fx.Provide or fx.Supply "+
				"(fx.Provide(fx.Annotate(NewImpl, fx.As(new(%s)))) for an interface), or use fxforge.Provide(<constructor of %s>)",
				v.source, v.typ, v.typ, v.typ))
			continue
		}
		if prev, ok := seen[v.typ]; ok {
			if !sameValue(prev.value, v.value) {
				errs = append(errs, fmt.Errorf("fxforge: %s and %s make %s resolvable with different values (an fx.Decorate in one fx.Module?); make it resolvable in one place",
					prev.source, v.source, v.typ))
			}
			continue
		}
		seen[v.typ] = v
		if err := resolve.Add(a.r, v.typ, v.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.source, err))
		}
	}
	return errors.Join(errs...)
}

// sameValue reports whether a and b are the same value: equal when their
// type is comparable, never otherwise.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Type() == vb.Type() && va.Comparable() && va.Equal(vb)
}

// withResolver makes res resolvable from every request's context.
func withResolver(res *msregistry.Resolver, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(msregistry.ContextWithResolver(r.Context(), res)))
	})
}
