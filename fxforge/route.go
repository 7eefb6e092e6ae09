package fxforge

import (
	"fmt"
	"net/http"
	"reflect"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/resolve"
)

// Route mounts a plain HTTP handler on the HTTPServer at pattern (an
// http.ServeMux pattern such as "GET /health"). ctor is an fx constructor
// whose first result implements http.Handler (an http.HandlerFunc works);
// its parameters are injected. When an identity.Authenticator is in the
// graph, the caller is authenticated first (anonymous callers pass; wrap the
// handler in identity.Middleware with guards to require more). Handlers get
// the request id
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
		fx.Provide(fx.Annotate(func(r routeWithResolver, in routeIn) route {
			h := withResolver(in.Resolver.resolver(), r.handler)
			if in.Authenticator != nil {
				h = authenticate(in.Authenticator, in.Logger, h)
			}
			return route{pattern: r.pattern, handler: h, describe: "HTTP route"}
		}, fx.ResultTags(routeGroup))),
	)
}

type routeIn struct {
	fx.In
	Resolver      resolverIn
	Authenticator identity.Authenticator `optional:"true"`
	Logger        *zap.Logger            `optional:"true"`
}

// authenticate puts the caller's identity in the request context. Anonymous
// callers pass (guard the handler for more); invalid credentials get a JSON
// 401, and an authenticator failure is logged and answered with 500.
func authenticate(auth identity.Authenticator, log *zap.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := identity.Check(r, auth)
		if err != nil {
			if identity.StatusCode(err) == http.StatusInternalServerError {
				log.Error("authenticator failed", zap.String("request_id", identity.RequestID(r.Context())), zap.Error(err))
			}
			identity.Refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
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
