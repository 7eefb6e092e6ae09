package fxforge

import (
	"fmt"
	"net/http"
	"reflect"

	"go.uber.org/fx"

	"github.com/fxforge/fxforge/internal/resolve"
)

// Route mounts a plain HTTP handler on the HTTPServer at pattern (an
// http.ServeMux pattern such as "GET /health"). ctor is an fx constructor
// whose first result implements http.Handler (an http.HandlerFunc works);
// its parameters are injected. Handlers get the request id
// (identity.RequestID), the identity (identity.FromContext) and typed
// resolution (wsgateway.Resolve / msregistry.Resolve) from r.Context().
func Route(pattern string, ctor any) fx.Option {
	fn, err := adapt(ctor, func(res []reflect.Value) (routeWithResolver, error) {
		if len(res) != 1 {
			return routeWithResolver{}, fmt.Errorf("fxforge.Route(%q): constructor must return one http.Handler (and optionally an error)", pattern)
		}
		h, ok := res[0].Interface().(http.Handler)
		if !ok || h == nil {
			return routeWithResolver{}, fmt.Errorf("fxforge.Route(%q): %s does not implement http.Handler", pattern, res[0].Type())
		}
		return routeWithResolver{pattern: pattern, handler: h}, nil
	})
	if err != nil {
		return fx.Error(fmt.Errorf("fxforge.Route(%q): %w", pattern, err))
	}
	return fx.Module("fxforge.Route "+pattern,
		fx.Provide(fx.Private, fn),
		fx.Provide(fx.Annotate(func(r routeWithResolver, in resolverIn) route {
			return route{pattern: r.pattern, handler: withResolver(in.resolver(), r.handler), describe: "HTTP route"}
		}, fx.ResultTags(routeGroup))),
	)
}

// withResolver makes r resolvable from every request's context.
func withResolver(r *resolve.Resolver, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req.WithContext(resolve.WithResolver(req.Context(), r)))
	})
}

type routeWithResolver struct {
	pattern string
	handler http.Handler
}
