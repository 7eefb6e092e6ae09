package fxnats

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
)

// Module provides the app's *nats.Conn and *Info with the default options:
// NATS_URL, or an embedded server when it is unset. It is Connection()
// wrapped in an fx.Module; use one or the other, not both.
var Module = fx.Module("fxnats", Connection())

// Info describes the app's NATS connection. It is provided beside the
// *nats.Conn, so tests and examples can point a second app, or a client, at
// the same server.
type Info struct {
	url      string
	embedded bool
}

// URL returns the URL the app connected to: the embedded server's client
// URL, or the configured one. A configured URL may carry credentials; do
// not log it.
func (i *Info) URL() string { return i.url }

// Embedded reports whether the app runs an embedded nats-server.
func (i *Info) Embedded() bool { return i.embedded }

type connIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Logger    *zap.Logger          `optional:"true"`
	Observer  fxforge.NATSObserver `optional:"true"`
}

type connOut struct {
	fx.Out
	Conn *nats.Conn
	Info *Info
}

// Connection provides a lifecycle-managed *nats.Conn and its *Info to the
// graph.
//
// The URL comes from the URL option, else from NATS_URL (read when the app
// is built); when neither is set, an embedded nats-server starts in-process
// on 127.0.0.1 with a random free port, so one command runs everything. The
// startup log says which: "nats: embedded server listening on
// nats://127.0.0.1:NNNN" or "nats: connected to URL" (credentials
// removed).
//
// The connection is made when the app is built, because fx hands the
// *nats.Conn to constructors: a URL that does not answer fails the app's
// Start (and Run) with an error that names the URL, where it came from and
// how to fix it. (If a later constructor fails, fx runs no stop hook: the
// connection, and an embedded server, stay until the process exits.) On stop the connection is drained (subscriptions finish
// the messages they have, buffered publishes are flushed), then the
// embedded server, if any, shuts down. Hooks of values built on the
// connection, such as Microservice's, run first.
//
// The client reconnects forever (ReconnectWait between attempts) and
// buffers up to ReconnectBufSize bytes of publishes while disconnected;
// disconnects are logged at warn, reconnects at info. When the graph holds
// an fxforge.NATSObserver (fxforge/fxmetrics provides one, wherever it
// stands among the app's options), the connection reports its connects,
// disconnects and reconnects to it.
func Connection(opts ...Option) fx.Option {
	return fx.Options(
		fx.Provide(func(in connIn) (connOut, error) { return connect(newConfig(opts), in) }),
		fx.Invoke(func(*nats.Conn) {}),
	)
}

// managedConn is the connection with what its stop hook needs.
type managedConn struct {
	nc  *nats.Conn
	srv *server.Server // nil unless embedded
	log *zap.Logger
}

func connect(cfg config, in connIn) (connOut, error) {
	log := in.Logger
	if log == nil {
		log = zap.NewNop()
	}
	url, from := cfg.source()
	var srv *server.Server
	if url == "" {
		var err error
		if srv, err = startEmbedded(); err != nil {
			return connOut{}, err
		}
		url = srv.ClientURL()
		log.Info("nats: embedded server listening on "+url, zap.String("url", url))
	}

	obs := in.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	nc, err := nats.Connect(url, cfg.natsOptionsFor(log, obs)...)
	if err != nil {
		if srv != nil {
			stopEmbedded(srv)
			return connOut{}, fmt.Errorf("fxnats: connect to the embedded NATS server at %s: %w", url, err)
		}
		return connOut{}, fmt.Errorf("fxnats: cannot connect to NATS at %s (from %s): %w; start a NATS server there, correct %s, or unset it to run an embedded server", redactURLs(url), from, err, from)
	}
	if srv == nil {
		log.Info("nats: connected to "+nc.ConnectedUrlRedacted(), zap.String("url", nc.ConnectedUrlRedacted()))
	}

	m := &managedConn{nc: nc, srv: srv, log: log}
	in.Lifecycle.Append(fx.StopHook(m.stop))
	return connOut{Conn: nc, Info: &Info{url: url, embedded: srv != nil}}, nil
}

// natsOptionsFor returns the nats.go options: reconnect forever, log
// connection events to log and report them to obs, then the caller's own
// options. nats.go runs the handlers one at a time, in order.
func (c config) natsOptionsFor(log *zap.Logger, obs fxforge.NATSObserver) []nats.Option {
	opts := []nats.Option{
		nats.Name(c.name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(c.reconnectWait),
		nats.ReconnectBufSize(c.reconnectBufSize),
		nats.ConnectHandler(func(*nats.Conn) { obs.Connected() }),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			obs.Disconnected()
			if err == nil { // a deliberate close or drain
				log.Debug("nats: disconnected")
				return
			}
			log.Warn("nats: disconnected; reconnecting", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			obs.Reconnected()
			log.Info("nats: reconnected to "+nc.ConnectedUrlRedacted(), zap.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			fields := []zap.Field{zap.Error(err)}
			if sub != nil {
				fields = append(fields, zap.String("subject", sub.Subject))
			}
			log.Warn("nats: asynchronous error", fields...)
		}),
	}
	return append(opts, c.natsOptions...)
}

// nopObserver is the fxforge.NATSObserver of an app without one.
type nopObserver struct{}

func (nopObserver) Connected()    {}
func (nopObserver) Disconnected() {}
func (nopObserver) Reconnected()  {}

// stop drains the connection, waiting until it is closed or ctx ends, then
// stops the embedded server.
func (m *managedConn) stop(ctx context.Context) error {
	closed := m.nc.StatusChanged(nats.CLOSED)
	defer m.nc.RemoveStatusListener(closed)
	var errs []error
	// Drain closes at once a connection that is reconnecting; there is
	// nothing to drain then.
	if err := m.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrConnectionReconnecting) {
		errs = append(errs, fmt.Errorf("fxnats: drain NATS connection: %w", err))
		m.nc.Close()
	}
	if !m.nc.IsClosed() {
		select {
		case <-closed:
		case <-ctx.Done():
			m.nc.Close()
			errs = append(errs, fmt.Errorf("fxnats: NATS connection not drained before the stop deadline: %w", ctx.Err()))
		}
	}
	m.log.Info("nats: connection drained")
	if m.srv != nil {
		stopEmbedded(m.srv)
		m.log.Info("nats: embedded server stopped")
	}
	return errors.Join(errs...)
}
