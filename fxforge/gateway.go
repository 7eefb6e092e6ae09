package fxforge

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/wsgateway"
)

// Gateway provides the app's default gateway: ctor is an fx constructor
// (its dependencies are injected) whose result implements
// wsgateway.Gateway. A WebSocketModule without WithGateway serves it.
func Gateway(ctor any) fx.Option {
	return fx.Provide(fx.Annotate(ctor, fx.As(new(wsgateway.Gateway)), fx.ResultTags(`name:"fxforge.gateway"`)))
}

// ModuleOption configures a WebSocketModule.
type ModuleOption func(*moduleConfig)

type moduleConfig struct {
	gateway any
	config  func(*wsgateway.Config)
}

// WithGateway makes the module serve its own gateway, built by ctor, instead
// of the app's default one. Use it for a second endpoint.
func WithGateway(ctor any) ModuleOption { return func(c *moduleConfig) { c.gateway = ctor } }

// WithConfig lets configure adjust the module's wsgateway.Config (limits,
// origins, guards, ...). The path, logger, resolver and authenticator are
// filled in from the module and the graph unless configure sets them.
func WithConfig(configure func(*wsgateway.Config)) ModuleOption {
	return func(c *moduleConfig) { c.config = configure }
}

// ownGateway is a module's own gateway (WithGateway), provided privately
// in the module's scope so two modules never see each other's.
type ownGateway struct{ wsgateway.Gateway }

type moduleIn struct {
	fx.In
	Default       wsgateway.Gateway      `name:"fxforge.gateway" optional:"true"`
	Own           ownGateway             `optional:"true"`
	Logger        *zap.Logger            `optional:"true"`
	Authenticator identity.Authenticator `optional:"true"`
	Observers     GatewayObservers       `optional:"true"`
	Resolver      resolverIn
}

// GatewayObservers returns the wsgateway.Observer of the gateway at path.
// When the graph holds one (fxforge/fxmetrics provides it), every
// WebSocketModule's server gets the Observer for its path, unless
// WithConfig sets Config.Observer.
type GatewayObservers func(path string) wsgateway.Observer

// WebSocketModule mounts a gateway at path on the HTTPServer ("events"
// becomes "/events"; "" and "/" mean "/ws"). It serves the app's default
// gateway (see Gateway) unless WithGateway gives it its own. On app stop
// every connection is closed with 1001 before the HTTP server stops.
func WebSocketModule(path string, opts ...ModuleOption) fx.Option {
	path = wsgateway.NormalizePath(path)
	var mc moduleConfig
	for _, o := range opts {
		o(&mc)
	}
	var own []fx.Option
	if mc.gateway != nil {
		fn, err := adapt(mc.gateway, func(res []reflect.Value) (ownGateway, error) {
			gw, ok := res[0].Interface().(wsgateway.Gateway)
			if len(res) != 1 || !ok || gw == nil {
				return ownGateway{}, fmt.Errorf("fxforge.WithGateway: %s does not implement wsgateway.Gateway", res[0].Type())
			}
			return ownGateway{gw}, nil
		})
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.WithGateway: %w", err))
		}
		own = append(own, fx.Provide(fx.Private, fn))
	}
	provide := func(in moduleIn) (route, error) {
		gw := in.Default
		if in.Own.Gateway != nil {
			gw = in.Own.Gateway
		}
		if gw == nil {
			return route{}, fmt.Errorf("fxforge.WebSocketModule(%q): no gateway; add fxforge.Gateway(NewYourGateway) to the app or pass fxforge.WithGateway(NewYourGateway)", path)
		}
		cfg := wsgateway.Config{Path: path}
		if mc.config != nil {
			mc.config(&cfg)
		}
		cfg.Path = wsgateway.NormalizePath(cfg.Path)
		if cfg.Logger == nil && in.Logger != nil {
			cfg.Logger = in.Logger.Named("ws")
		}
		if cfg.Resolver == nil {
			cfg.Resolver = in.Resolver.resolver()
		}
		if cfg.Authenticator == nil {
			cfg.Authenticator = in.Authenticator
		}
		if cfg.Observer == nil && in.Observers != nil {
			cfg.Observer = in.Observers(cfg.Path)
		}
		srv := wsgateway.NewServer(gw, cfg)
		return route{pattern: srv.Path(), handler: srv, describe: "WebSocket gateway", wsPath: srv.Path(), open: srv.Len, shutdown: srv.Shutdown}, nil
	}
	return fx.Module("fxforge.WebSocketModule "+path,
		append(own, fx.Provide(fx.Annotate(provide, fx.ResultTags(routeGroup))))...)
}
