package fxforge

import (
	"fmt"
	"net/http"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
)

// routeHandler is a Route's handler, private to the route's module.
type routeHandler struct{ http.Handler }

// RouteOption configures a Route.
type RouteOption func(*routeOptions)

type routeOptions struct {
	auth   bool
	guards []identity.Guard
}

// WithAuth makes the route authenticate its callers with the app's
// identity.Authenticator (the one in the graph) and then run guards, in
// order. Invalid credentials, and a guard's refusal, get a JSON 401 or 403
// and the handler does not run; with no guards, anonymous callers pass and
// the handler reads the identity, if any, with identity.FromContext.
func WithAuth(guards ...identity.Guard) RouteOption {
	return func(o *routeOptions) {
		o.auth = true
		o.guards = append(o.guards, guards...)
	}
}

// Route mounts a plain HTTP handler on the HTTPServer at pattern (an
// http.ServeMux pattern such as "GET /health"). h is an fx constructor whose
// first result implements http.Handler (an http.HandlerFunc works; its
// parameters are injected), or a handler value: an http.Handler or a
// func(http.ResponseWriter, *http.Request).
//
// A route is public: nothing authenticates its callers, so no header can get
// it refused, unless WithAuth says otherwise. Handlers get the request id
// (identity.RequestID), the identity under WithAuth (identity.FromContext)
// and typed resolution (wsgateway.Resolve / msregistry.Resolve) from
// r.Context().
//
// A handler with a Shutdown(context.Context) error method, such as a
// *wsgateway.Server, is shut down on app stop, before the HTTP server,
// together with the WebSocketModules.
func Route(pattern string, h any, opts ...RouteOption) fx.Option {
	var ro routeOptions
	for _, o := range opts {
		o(&ro)
	}
	p, err := handlerOptions(h)
	if err != nil {
		return fx.Error(fmt.Errorf("fxforge.Route(%q): %w", pattern, err))
	}
	return fx.Module("fxforge.Route "+pattern, p, fx.Provide(routeConstructor(pattern, ro)))
}

// handlerOptions provides h privately, and the routeHandler built from it.
func handlerOptions(h any) (fx.Option, error) {
	if f, ok := h.(func(http.ResponseWriter, *http.Request)); ok {
		h = http.HandlerFunc(f)
	}
	return provideAs(h, true, "an http.HandlerFunc works", func(h http.Handler) routeHandler { return routeHandler{h} })
}

type routeIn struct {
	fx.In
	Handler       routeHandler
	Resolver      *appResolver
	Authenticator identity.Authenticator `optional:"true"`
	Logger        *zap.Logger            `optional:"true"`
}

// routeConstructor returns the constructor of the route's entry on the
// server.
func routeConstructor(pattern string, ro routeOptions) func(in routeIn) (routeOut, error) {
	return func(in routeIn) (routeOut, error) {
		h := in.Handler.Handler
		if ro.auth {
			if in.Authenticator == nil {
				return routeOut{}, fmt.Errorf("fxforge.Route(%q): WithAuth needs an identity.Authenticator in the graph; "+
					"add fx.Provide(fx.Annotate(NewAuthenticator, fx.As(new(identity.Authenticator))))", pattern)
			}
			h = authenticate(in.Authenticator, ro.guards, in.Logger, h)
		}
		r := route{pattern: pattern, handler: withResolver(in.Resolver.r, h), describe: "HTTP route"}
		if s, ok := in.Handler.Handler.(shutdowner); ok {
			r.shutdown = s.Shutdown
		}
		return routeOut{Route: r}, nil
	}
}

// authenticate puts the caller's identity in the request context and runs
// guards. Refusals are JSON 401 or 403; an authenticator failure is logged
// and answered with 500.
func authenticate(auth identity.Authenticator, guards []identity.Guard, log *zap.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := identity.Check(r, auth, guards...)
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
