package fxforge

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/wsgateway"
)

// defaultGateway puts the app's default gateway (Gateway) into its group;
// moduleGateway puts a module's own (WithGateway) into a group private to
// the module. Groups keep them apart from any wsgateway.Gateway the app
// provides for its own use, and, unlike optional parameters, let an absent
// gateway be told from one whose constructor fails.
type (
	defaultGateway struct {
		fx.Out
		Gateway wsgateway.Gateway `group:"fxforge.gateway"`
	}
	moduleGateway struct {
		fx.Out
		Gateway wsgateway.Gateway `group:"fxforge.module.gateway"`
	}
)

// Gateway provides the app's default gateway; a WebSocketModule without
// WithGateway serves it. gw is an fx constructor whose first result
// implements wsgateway.Gateway (its parameters are injected, so a gateway
// takes its dependencies by constructor injection), or a gateway value such
// as a wsgateway.GatewayFunc. The constructor is given to fx as it is, so
// its result is in the graph too and fx's errors name it.
func Gateway(gw any) fx.Option {
	opts, err := gatewayOptions(gw, false, func(g wsgateway.Gateway) defaultGateway { return defaultGateway{Gateway: g} })
	if err != nil {
		return fx.Error(fmt.Errorf("fxforge.Gateway: %w", err))
	}
	return opts
}

// gatewayOptions provides gw, and wrap's result built from it.
func gatewayOptions[W any](gw any, private bool, wrap func(wsgateway.Gateway) W) (fx.Option, error) {
	if f, ok := gw.(func(*wsgateway.Context, *wsgateway.Conn) error); ok {
		gw = wsgateway.GatewayFunc(f)
	}
	return provideAs(gw, private, "a type with OnConnect(*wsgateway.Context, *wsgateway.Conn) error", wrap)
}

// ModuleOption configures a WebSocketModule.
type ModuleOption func(*moduleOptions)

type moduleOptions struct {
	gateway any
	config  any
}

// WithGateway makes the module serve its own gateway instead of the app's
// default one; use it for a second endpoint. gw is what Gateway takes: an
// fx constructor or a gateway value. The gateway is private to the module.
func WithGateway(gw any) ModuleOption { return func(c *moduleOptions) { c.gateway = gw } }

// WithConfig gives the module its own wsgateway.Config, built by ctor, an fx
// constructor whose parameters are injected, for example
//
//	func NewChatConfig(app *AppConfig) wsgateway.Config {
//		return wsgateway.Config{OriginPatterns: app.Origins, ReadLimit: 64 << 10}
//	}
//
// The Config is private to the module. Without WithConfig, a module uses
// the wsgateway.Config in the graph (fx.Provide(NewWSConfig), or fx.Supply)
// and the defaults when there is none. In tests, fx.Replace(wsgateway.Config{...})
// replaces the Config of every module; fx.Decorate decorates the one in the
// graph.
func WithConfig(ctor any) ModuleOption { return func(c *moduleOptions) { c.config = ctor } }

var configType = reflect.TypeFor[wsgateway.Config]()

// configProvider checks that ctor builds a wsgateway.Config.
func configProvider(ctor any) (any, error) {
	if _, ok := ctor.(func(*wsgateway.Config)); ok {
		return nil, fmt.Errorf("WithConfig takes an fx constructor that returns the module's wsgateway.Config, " +
			"for example fxforge.WithConfig(func() wsgateway.Config { return wsgateway.Config{ReadLimit: 64 << 10} })")
	}
	t := reflect.TypeOf(ctor)
	if t == nil || t.Kind() != reflect.Func {
		return nil, fmt.Errorf("WithConfig: %v (%T) is not a constructor function; for a fixed Config, pass func() wsgateway.Config { return cfg }", ctor, ctor)
	}
	if t.NumOut() == 0 || t.Out(0) != configType {
		return nil, fmt.Errorf("WithConfig: constructor %s must return a wsgateway.Config value as its first result", funcName(ctor))
	}
	return ctor, nil
}

type moduleIn struct {
	fx.In
	Defaults      []wsgateway.Gateway `group:"fxforge.gateway"`
	Own           []wsgateway.Gateway `group:"fxforge.module.gateway"`
	Config        wsgateway.Config    `optional:"true"`
	Resolver      *appResolver
	Logger        *zap.Logger            `optional:"true"`
	Authenticator identity.Authenticator `optional:"true"`
	Hub           *wsgateway.Hub         `optional:"true"`
	Observers     GatewayObservers       `optional:"true"`
}

// GatewayObservers returns the wsgateway.Observer of the gateway at path.
// When the graph holds one (fxforge/fxmetrics provides it), every
// WebSocketModule's server gets the Observer for its path, unless
// WithConfig sets Config.Observer.
type GatewayObservers func(path string) wsgateway.Observer

// WebSocketModule mounts a gateway at path on the HTTPServer ("events"
// becomes "/events"; "" and "/" mean "/ws"). It serves the app's default
// gateway (see Gateway) unless WithGateway gives it its own.
//
// Its settings are a wsgateway.Config from the graph (see WithConfig). The
// module fills what the Config leaves empty: the logger (the app's, named
// "ws"), the resolver (the app's) and the authenticator (the
// identity.Authenticator in the graph, if any). The module's path is the
// mount path; a Config whose Path differs is an error, and so is a
// Config.ShutdownTimeout, since the app's stop timeout bounds shutdown. On
// app stop every connection is closed with 1001 before the HTTP server
// stops.
func WebSocketModule(path string, opts ...ModuleOption) fx.Option {
	path = wsgateway.NormalizePath(path)
	var mo moduleOptions
	for _, o := range opts {
		o(&mo)
	}
	var own []fx.Option
	if mo.gateway != nil {
		p, err := gatewayOptions(mo.gateway, true, func(g wsgateway.Gateway) moduleGateway { return moduleGateway{Gateway: g} })
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.WebSocketModule(%q): WithGateway: %w", path, err))
		}
		own = append(own, p)
	}
	if mo.config != nil {
		p, err := configProvider(mo.config)
		if err != nil {
			return fx.Error(fmt.Errorf("fxforge.WebSocketModule(%q): %w", path, err))
		}
		own = append(own, fx.Provide(fx.Private, p))
	}
	return fx.Module("fxforge.WebSocketModule "+path, append(own, fx.Provide(moduleRoute(path)))...)
}

// moduleRoute returns the constructor of the module's route.
func moduleRoute(path string) func(in moduleIn) (routeOut, error) {
	return func(in moduleIn) (routeOut, error) {
		gws := in.Defaults
		if len(in.Own) > 0 {
			gws = in.Own
		}
		switch len(gws) {
		case 0:
			return routeOut{}, fmt.Errorf("fxforge.WebSocketModule(%q): no gateway; add fxforge.Gateway(NewYourGateway) to the app or pass fxforge.WithGateway(NewYourGateway)", path)
		case 1:
		default:
			return routeOut{}, fmt.Errorf("fxforge.WebSocketModule(%q): %d default gateways; give fxforge.Gateway once, and each further endpoint its own with fxforge.WithGateway", path, len(gws))
		}
		gw := gws[0]
		cfg := in.Config
		if cfg.Path != "" && wsgateway.NormalizePath(cfg.Path) != path {
			return routeOut{}, fmt.Errorf("fxforge.WebSocketModule(%q): its wsgateway.Config has Path %q; the module's path is the mount path, leave Config.Path empty", path, cfg.Path)
		}
		if cfg.ShutdownTimeout != 0 {
			return routeOut{}, fmt.Errorf("fxforge.WebSocketModule(%q): Config.ShutdownTimeout has no effect in an fx app, whose stop timeout bounds shutdown; leave it zero and set fx.StopTimeout", path)
		}
		cfg.Path = path
		if cfg.Logger == nil && in.Logger != nil {
			cfg.Logger = in.Logger.Named("ws")
		}
		if cfg.Resolver == nil {
			cfg.Resolver = in.Resolver.r
		}
		if cfg.Authenticator == nil {
			cfg.Authenticator = in.Authenticator
		}
		if cfg.Hub == nil {
			cfg.Hub = in.Hub
		}
		if cfg.Observer == nil && in.Observers != nil {
			cfg.Observer = in.Observers(cfg.Path)
		}
		srv := wsgateway.NewServer(gw, cfg)
		return routeOut{Route: route{pattern: srv.Path(), handler: srv, describe: "WebSocket gateway", wsPath: srv.Path(), open: srv.Len, shutdown: srv.Shutdown}}, nil
	}
}
