package fxmetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Server is the HTTP server of its own that serves the metrics, health and
// readiness endpoints when Addr is given. Module provides it to the graph
// only then.
type Server struct {
	addr string
	srv  *http.Server
	log  *zap.Logger

	mu      sync.Mutex
	bound   net.Addr
	serveCh chan error
}

func newServer(addr string, h http.Handler, log *zap.Logger) *Server {
	return &Server{addr: addr, log: log, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(log),
	}}
}

// Addr returns the address the server listens on once started (useful with
// port 0), or nil before.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound
}

func (s *Server) start(context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fxmetrics: metrics server cannot listen on %s: %w (is another process using the port? change fxmetrics.Addr)", s.addr, err)
	}
	s.mu.Lock()
	s.bound = ln.Addr()
	s.mu.Unlock()
	s.serveCh = make(chan error, 1)
	go func() { s.serveCh <- s.srv.Serve(ln) }()
	s.log.Info("metrics server listening", zap.String("addr", ln.Addr().String()))
	return nil
}

func (s *Server) stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.serveCh; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("fxmetrics: metrics server: %w", serr))
	}
	s.log.Info("metrics server stopped", zap.String("addr", s.Addr().String()))
	return err
}
