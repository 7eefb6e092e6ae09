package fxforge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
)

// DefaultAddr is the HTTP address when neither Addr nor PORT says otherwise.
const DefaultAddr = ":3000"

// ServerOption configures HTTPServer.
type ServerOption func(*serverOptions)

type serverOptions struct {
	addr              string // "" means PORT, else DefaultAddr
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
}

// Addr sets the listen address, for example ":8080" or "127.0.0.1:0"; it
// wins over the PORT environment variable.
func Addr(addr string) ServerOption { return func(c *serverOptions) { c.addr = addr } }

// ReadHeaderTimeout bounds how long a client may take to send request
// headers, the WebSocket handshake included (default 10 s).
func ReadHeaderTimeout(d time.Duration) ServerOption {
	return func(c *serverOptions) { c.readHeaderTimeout = d }
}

// ShutdownTimeout bounds graceful shutdown when the context given to the
// app's Stop has no deadline (default 10 s). fx.Run and fxtest stop with a
// deadline, fx.StopTimeout, which is then the one bound.
func ShutdownTimeout(d time.Duration) ServerOption {
	return func(c *serverOptions) { c.shutdownTimeout = d }
}

// route is one handler mounted on the server's mux, with its optional
// shutdown.
type route struct {
	pattern  string
	handler  http.Handler
	describe string // how the route is logged, e.g. "WebSocket gateway"
	wsPath   string // for a gateway, the path clients connect to
	shutdown func(context.Context) error
	// open returns a gateway's open connections, for the shutdown log.
	open func() int
}

// shutdowner is implemented by handlers that hold connections of their own,
// such as *wsgateway.Server; HTTPServer shuts them down before itself.
type shutdowner interface {
	Shutdown(ctx context.Context) error
}

// routeOut puts a route into the server's routes group.
type routeOut struct {
	fx.Out
	Route route `group:"fxforge.routes"`
}

type serverIn struct {
	fx.In
	Lifecycle fx.Lifecycle
	Logger    *zap.Logger `optional:"true"`
	Routes    []route     `group:"fxforge.routes"`
}

// Server is the lifecycle-managed HTTP server that HTTPServer provides.
type Server struct {
	srv     *http.Server
	cfg     serverOptions
	log     *zap.Logger
	routes  []route
	mu      sync.Mutex
	addr    net.Addr
	serveCh chan error
}

// Addr returns the address the server listens on once started (useful with
// port 0), or nil before.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// HTTPServer provides a *fxforge.Server that serves every Route and
// WebSocketModule of the app. It binds in OnStart, so a busy port fails
// app start with an error naming the address; serves in the background;
// and on OnStop closes every WebSocket with 1001, waits for their handlers,
// then shuts the HTTP server down gracefully. Every request gets a request id
// (X-Request-Id).
//
// The address is what Addr says, else ":$PORT" when the PORT environment
// variable is set, else ":3000". PORT is read when the app is built, not
// when HTTPServer is called.
//
// HTTPServer also provides the app's resolver, built once from everything
// made resolvable with Provide and Resolvable; Routes, WebSocketModules and
// Microservices share it.
func HTTPServer(opts ...ServerOption) fx.Option {
	so := serverOptions{readHeaderTimeout: 10 * time.Second, idleTimeout: 120 * time.Second, shutdownTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&so)
	}
	return fx.Options(
		fx.Provide(newAppResolver),
		fx.Provide(func(in serverIn) (*Server, error) { return newServer(so, in) }),
		fx.Invoke(fillAppResolver),
		fx.Invoke(func(*Server) {}),
	)
}

func newServer(cfg serverOptions, in serverIn) (*Server, error) {
	if cfg.addr == "" {
		cfg.addr = DefaultAddr
		if p := os.Getenv("PORT"); p != "" {
			cfg.addr = ":" + p
		}
	}
	log := in.Logger
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	for _, r := range in.Routes {
		if err := register(mux, r); err != nil {
			return nil, err
		}
	}
	h := identity.RequestIDMiddleware(accessLog(log.Named("http"), mux))
	s := &Server{
		cfg:    cfg,
		log:    log,
		routes: in.Routes,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.readHeaderTimeout,
			IdleTimeout:       cfg.idleTimeout,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          zap.NewStdLog(log.Named("http")),
		},
	}
	in.Lifecycle.Append(fx.Hook{OnStart: s.start, OnStop: s.stop})
	return s, nil
}

// register mounts r, turning ServeMux's panic on a conflicting pattern into
// an error.
func register(mux *http.ServeMux, r route) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fxforge: mount %s %q: %v", r.describe, r.pattern, p)
		}
	}()
	mux.Handle(r.pattern, r.handler)
	return nil
}

func (s *Server) start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return fmt.Errorf("fxforge: HTTP server cannot listen on %s: %w (is another process using the port? set PORT or use fxforge.Addr)", s.cfg.addr, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	s.serveCh = make(chan error, 1)
	go func() { s.serveCh <- s.srv.Serve(ln) }()

	host := "localhost"
	port := ln.Addr().(*net.TCPAddr).Port
	s.log.Info("HTTP server listening", zap.String("addr", ln.Addr().String()), zap.String("url", fmt.Sprintf("http://%s:%d", host, port)))
	for _, r := range s.routes {
		fields := []zap.Field{zap.String("pattern", r.pattern)}
		if r.wsPath != "" {
			fields = append(fields, zap.String("url", fmt.Sprintf("ws://%s:%d%s", host, port, r.wsPath)))
		}
		s.log.Info(r.describe+" mounted", fields...)
	}
	return nil
}

func (s *Server) stop(ctx context.Context) error {
	start, open := time.Now(), 0
	for _, r := range s.routes {
		if r.open != nil {
			open += r.open()
		}
	}
	s.log.Info("HTTP server shutting down", zap.Int("connections", open))
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.shutdownTimeout)
		defer cancel()
	}
	// WebSocket connections are hijacked, so http.Server.Shutdown does not
	// see them: close them first, concurrently.
	var wg sync.WaitGroup
	errs := make([]error, len(s.routes))
	for i, r := range s.routes {
		if r.shutdown == nil {
			continue
		}
		wg.Go(func() { errs[i] = r.shutdown(ctx) })
	}
	wg.Wait()
	errs = append(errs, s.srv.Shutdown(ctx))
	if err := <-s.serveCh; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("fxforge: HTTP server: %w", err))
	}
	s.log.Info("HTTP server stopped", zap.String("addr", s.Addr().String()),
		zap.Int("connections_closed", open), zap.Duration("duration", time.Since(start)))
	return errors.Join(errs...)
}
