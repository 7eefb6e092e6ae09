package fxmetrics

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Default paths of the endpoints.
const (
	DefaultMetricsPath = "/metrics"
	DefaultHealthPath  = "/healthz"
	DefaultReadyPath   = "/readyz"
)

// Option configures Metrics.
type Option func(*config)

type config struct {
	metricsPath, healthPath, readyPath string
	addr                               string
	drainDelay                         time.Duration
	buckets                            []float64
}

// MetricsPath sets the path of the Prometheus endpoint (default /metrics).
func MetricsPath(path string) Option { return func(c *config) { c.metricsPath = path } }

// HealthPath sets the path of the liveness probe (default /healthz).
func HealthPath(path string) Option { return func(c *config) { c.healthPath = path } }

// ReadyPath sets the path of the readiness probe (default /readyz).
func ReadyPath(path string) Option { return func(c *config) { c.readyPath = path } }

// Addr serves the endpoints on a server of their own at addr, for example
// ":9090" or "127.0.0.1:0", instead of on the app's fxforge.HTTPServer. The
// *fxmetrics.Server is then in the graph.
func Addr(addr string) Option { return func(c *config) { c.addr = addr } }

// DrainDelay makes app stop wait d after /readyz has turned 503, before the
// gateways close their connections, so that load balancers see the app
// drain and send no new clients. The default is 0; set it to the probe
// interval of your load balancer. The stop context's deadline cuts it short.
func DrainDelay(d time.Duration) Option { return func(c *config) { c.drainDelay = d } }

// DurationBuckets sets the bucket bounds, in seconds, of
// fxforge_ms_handle_duration_seconds (default DefaultDurationBuckets).
func DurationBuckets(bounds ...float64) Option {
	return func(c *config) { c.buckets = bounds }
}

// Module serves the app's metrics, health and readiness with the defaults:
// /metrics, /healthz and /readyz on the app's fxforge.HTTPServer. It is
// Metrics().
var Module = Metrics()

// Metrics adds Prometheus metrics, a liveness and a readiness probe to an
// fxforge app:
//
//   - a *prometheus.Registry of the app's own, with the Go runtime and
//     process collectors, provided to the graph: register the app's own
//     metrics on it and they are served beside fxforge's;
//   - fxforge.GatewayObservers, so every fxforge.WebSocketModule reports
//     its connections and messages (see GatewayMetrics), and an
//     msregistry.Observer, so fxforge.Microservices reports its calls (see
//     RegistryMetrics);
//   - a wsgateway.BrokerObserver and an fxforge.NATSObserver, which
//     fxnats.HubBroker and fxnats.Connection report to (see BrokerMetrics
//     and NATSMetrics); fx builds them, and their series appear, only in
//     an app that has those;
//   - GET /metrics (Prometheus text format), /healthz (200 while the
//     process serves) and /readyz (200 once the app has started; 503 while
//     it starts and from the moment it begins to stop), on the app's
//     fxforge.HTTPServer, or on a server of their own with Addr.
//
// /readyz turns 200 in an OnStart hook that runs after the HTTP servers
// have started, and 503 in an OnStop hook that runs before the gateways
// close their connections and the servers stop. fx orders its hooks by
// when their constructors ran; Metrics makes that order follow from the
// dependencies, not from the order of the app's options.
func Metrics(opts ...Option) fx.Option {
	cfg := config{metricsPath: DefaultMetricsPath, healthPath: DefaultHealthPath, readyPath: DefaultReadyPath}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return fx.Error(err)
	}
	options := []fx.Option{
		fx.Provide(NewRegistry),
		fx.Provide(fx.Private, cfg.newHealth, cfg.newGatewayMetrics, cfg.newRegistryMetrics),
		fx.Provide(
			func(m *GatewayMetrics) fxforge.GatewayObservers { return m.Observer },
			func(m *RegistryMetrics) msregistry.Observer { return m },
			cfg.newBrokerObserver,
			cfg.newNATSObserver,
		),
	}
	if cfg.addr == "" {
		options = append(options,
			fxforge.Route("GET "+cfg.metricsPath, func(reg *prometheus.Registry, in loggerIn) http.Handler {
				return metricsHandler(reg, in.logger())
			}),
			fxforge.Route("GET "+cfg.healthPath, func(h *health) http.HandlerFunc { return h.live }),
			fxforge.Route("GET "+cfg.readyPath, func(h *health) http.HandlerFunc { return h.ready }),
			fx.Invoke(cfg.readyWithAppServer),
		)
	} else {
		options = append(options,
			fx.Provide(cfg.newServer),
			fx.Invoke(cfg.readyWithOwnServer),
		)
	}
	return fx.Module("fxmetrics", options...)
}

func (c config) validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range []struct{ option, path string }{
		{"MetricsPath", c.metricsPath}, {"HealthPath", c.healthPath}, {"ReadyPath", c.readyPath},
	} {
		switch {
		case !strings.HasPrefix(p.path, "/") || strings.ContainsAny(p.path, " \t{}"):
			errs = append(errs, fmt.Errorf("fxmetrics.%s(%q): a path starts with / and has no spaces or braces, e.g. %q", p.option, p.path, "/"+strings.Trim(p.path, "/ \t{}")))
		case seen[p.path]:
			errs = append(errs, fmt.Errorf("fxmetrics.%s(%q): the path is already used by another endpoint; give each its own", p.option, p.path))
		}
		seen[p.path] = true
	}
	return errors.Join(errs...)
}

// loggerIn takes the app's logger, if it has one.
type loggerIn struct {
	fx.In
	Logger *zap.Logger `optional:"true"`
}

func (in loggerIn) logger() *zap.Logger {
	if in.Logger == nil {
		return zap.NewNop()
	}
	return in.Logger.Named("metrics")
}

func (c config) newHealth(in loggerIn) *health {
	return &health{log: in.logger().With(zap.String("probe", c.readyPath))}
}

// observedIn is what the observers are built from. Own, the metrics
// server of its own, is built first when there is one: the gateways and the
// registry need the observers, so its lifecycle hook is appended before the
// app server's and it stops after the app server.
type observedIn struct {
	fx.In
	Registry *prometheus.Registry
	Own      *Server `optional:"true"`
}

func (c config) newGatewayMetrics(in observedIn) (*GatewayMetrics, error) {
	return NewGatewayMetrics(in.Registry)
}

func (c config) newRegistryMetrics(in observedIn) (*RegistryMetrics, error) {
	return NewRegistryMetrics(in.Registry, c.buckets...)
}

func (c config) newBrokerObserver(in observedIn) (wsgateway.BrokerObserver, error) {
	return NewBrokerMetrics(in.Registry)
}

func (c config) newNATSObserver(in observedIn) (fxforge.NATSObserver, error) {
	return NewNATSMetrics(in.Registry)
}

type appServerIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Health    *health
	App       *fxforge.Server `optional:"true"`
}

// readyWithAppServer appends the readiness hook after the app server's:
// taking the *fxforge.Server as a parameter makes fx build it, and append
// its hook, first.
func (c config) readyWithAppServer(in appServerIn) error {
	if in.App == nil {
		return fmt.Errorf("fxmetrics: no fxforge.HTTPServer in the app to serve %s, %s and %s on; add fxforge.HTTPServer() or give them a server of their own with fxmetrics.Addr(\":9090\")",
			c.metricsPath, c.healthPath, c.readyPath)
	}
	in.Lifecycle.Append(in.Health.hook(c.drainDelay))
	return nil
}

type ownServerIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Registry  *prometheus.Registry
	Health    *health
	Logger    loggerIn
}

func (c config) newServer(in ownServerIn) *Server {
	log := in.Logger.logger()
	mux := http.NewServeMux()
	mux.Handle("GET "+c.metricsPath, metricsHandler(in.Registry, log))
	mux.HandleFunc("GET "+c.healthPath, in.Health.live)
	mux.HandleFunc("GET "+c.readyPath, in.Health.ready)
	s := newServer(c.addr, mux, log)
	in.Lifecycle.Append(fx.Hook{OnStart: s.start, OnStop: s.stop})
	return s
}

type ownReadyIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Health    *health
	Own       *Server
	App       *fxforge.Server `optional:"true"`
}

// readyWithOwnServer appends the readiness hook after the hooks of the
// metrics server and of the app server, if the app has one.
func (c config) readyWithOwnServer(in ownReadyIn) {
	in.Lifecycle.Append(in.Health.hook(c.drainDelay))
}
