// Command hello-websockets is the fxforge quick start: an fx app with a
// WebSocket gateway at /ws that greets each client with
// "connected:<request-id>" and then serves microservice frames:
//
//	{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"1"}
//	{"kind":"event","pattern":"app.ping","payload":null,"metadata":{}}
//
// Run it with
//
//	go run ./examples/hello-websockets
//
// It listens on :3000 (PORT overrides). APP_NAME sets the name app.info
// reports.
package main

import (
	"context"
	"os"
	"sync/atomic"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// AppConfig is the app's configuration, resolvable from every context.
type AppConfig struct {
	AppName string
}

// NewAppConfig reads the configuration from the environment. It is an fx
// constructor, so the environment is read when the app is built.
func NewAppConfig() *AppConfig {
	name := os.Getenv("APP_NAME")
	if name == "" {
		name = "fxforge"
	}
	return &AppConfig{AppName: name}
}

// Stats counts the app.ping events the app has handled.
type Stats struct {
	pings atomic.Int64
}

// NewStats returns zeroed Stats.
func NewStats() *Stats { return &Stats{} }

// AppInfo is the reply to app.info.
type AppInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
	Pings     int64  `json:"pings"`
}

// EventsGateway greets each client and serves frames through the registry.
type EventsGateway struct {
	reg *msregistry.Registry
}

// NewEventsGateway is the gateway's fx constructor: its dependencies are
// injected.
func NewEventsGateway(reg *msregistry.Registry) *EventsGateway {
	return &EventsGateway{reg: reg}
}

// OnConnect sends "connected:<request-id>" and serves frames until the
// client leaves.
func (g *EventsGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	cfg, err := wsgateway.Resolve[*AppConfig](ctx)
	if err != nil {
		return err
	}
	ctx.Logger().Debug("client connected", zap.String("app", cfg.AppName))
	if err := conn.WriteText("connected:" + ctx.RequestID()); err != nil {
		return err
	}
	return wsgateway.Serve(ctx, conn, g.reg)
}

// registerPatterns registers the app's message and event patterns.
func registerPatterns(reg *msregistry.Registry, stats *Stats) error {
	err := msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (AppInfo, error) {
		cfg, err := msregistry.Resolve[*AppConfig](ctx)
		if err != nil {
			return AppInfo{}, err
		}
		call, _ := msregistry.CallFrom(ctx)
		return AppInfo{AppName: cfg.AppName, Transport: call.Transport, Pings: stats.pings.Load()}, nil
	})
	if err != nil {
		return err
	}
	return msregistry.Event(reg, "app.ping", func(context.Context, any) error {
		stats.pings.Add(1)
		return nil
	})
}

// App is everything but the logger and the HTTP server, so tests can run it
// on another address.
var App = fx.Options(
	fx.Provide(NewAppConfig, NewStats),  // plain fx: fx.Provide, fx.Supply, fx.Annotate ...
	fxforge.Resolvable(new(*AppConfig)), // ... plus the types that code with only a context resolves
	fxforge.Microservices(),             // the *msregistry.Registry the gateway serves
	fxforge.Patterns(registerPatterns),  // message and event handlers, registered from the graph
	fxforge.Gateway(NewEventsGateway),   // a gateway is an fx constructor: constructor injection
	fxforge.WebSocketModule("/ws"),      // the upgrade handler for that gateway, at /ws
	fxmetrics.Module,                    // /metrics, /healthz and /readyz on the same server
)

func main() {
	fx.New(
		fxforge.Logger(),     // zap, and fx's own events through it
		fxforge.HTTPServer(), // :3000 unless PORT says otherwise
		App,
	).Run()
}
