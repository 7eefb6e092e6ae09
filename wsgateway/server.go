package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/logtext"
)

// Server serves one gateway: it checks, authenticates and upgrades requests,
// runs the gateway for each connection, and shuts every connection down
// gracefully. It is an http.Handler; mount it on any router.
type Server struct {
	gw  Gateway
	cfg Config
	log *zap.Logger

	subprotocols     []string // cfg.Subprotocols plus SubprotocolBatch
	authSubprotocols []string // the same with the authenticator's marker
	authMarker       string

	conns  connSet
	active atomic.Int64 // connections upgraded or being upgraded

	mu       sync.Mutex
	draining bool
	wg       sync.WaitGroup // one per running connection
}

// NewServer returns a Server for gw. See Config for the defaults. Origin
// patterns that do not parse are logged and ignored; Config.Validate
// reports them as an error.
func NewServer(gw Gateway, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{gw: gw, cfg: cfg, log: cfg.Logger.With(zap.String("path", cfg.Path))}
	if err := cfg.validOrigins(); err != nil {
		s.log.Error("ignoring origin patterns", zap.Error(err))
		s.cfg.OriginPatterns = slices.DeleteFunc(slices.Clone(cfg.OriginPatterns), func(p string) bool {
			_, err := path.Match(p, "")
			return err != nil
		})
	}
	// The server prefers the gateway's own subprotocols, then the
	// authenticator's marker (only offered when the client sent a token
	// that way), then batching.
	s.subprotocols = append(slices.Clone(cfg.Subprotocols), SubprotocolBatch)
	s.authSubprotocols = s.subprotocols
	if sa, ok := cfg.Authenticator.(identity.SubprotocolAuthenticator); ok && sa.AuthSubprotocol() != "" {
		s.authMarker = sa.AuthSubprotocol()
		s.authSubprotocols = append(slices.Clone(cfg.Subprotocols), s.authMarker, SubprotocolBatch)
	}
	return s
}

// Handler returns an http.Handler that serves gw with cfg. Use NewServer
// instead when you need Shutdown.
func Handler(gw Gateway, cfg Config) http.Handler { return NewServer(gw, cfg) }

// Path returns the normalized path from the Config.
func (s *Server) Path() string { return s.cfg.Path }

// Len returns the number of open connections.
func (s *Server) Len() int { return s.conns.len() }

// ServeHTTP checks and upgrades one request and serves the connection until
// it ends. Refusals are JSON bodies carrying the request id: 405 for a
// method other than GET, 426 for a request that is not a WebSocket upgrade,
// 403 for a foreign origin, 401/403 from the authenticator and guards, and
// 503 while shutting down or over MaxConnections.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, reqID := identity.EnsureRequestID(w, r)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		identity.WriteError(w, r, http.StatusMethodNotAllowed, "a WebSocket upgrade must use GET")
		return
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		identity.WriteError(w, r, http.StatusUpgradeRequired,
			fmt.Sprintf("%s is a WebSocket endpoint; connect with a WebSocket client (ws:// or wss://)", r.URL.Path))
		return
	}
	r, err := identity.Check(r, s.cfg.Authenticator, s.cfg.Guards...)
	if err != nil {
		if status := identity.StatusCode(err); status == http.StatusInternalServerError {
			s.log.Error("authenticator failed", zap.String("request_id", reqID), zap.Error(err))
		} else {
			s.log.Info("upgrade refused", zap.String("request_id", reqID), zap.Int("status", status), zap.String("reason", logtext.Escape(err.Error())))
		}
		identity.Refuse(w, r, err)
		return
	}
	if !s.begin() {
		s.log.Info("upgrade refused", zap.String("request_id", reqID), zap.Int("status", http.StatusServiceUnavailable), zap.String("reason", "server is shutting down"))
		identity.WriteError(w, r, http.StatusServiceUnavailable, "server is shutting down; reconnect later")
		return
	}
	if n := s.active.Add(1); s.cfg.MaxConnections > 0 && n > int64(s.cfg.MaxConnections) {
		s.active.Add(-1)
		s.wg.Done()
		s.log.Info("upgrade refused", zap.String("request_id", reqID), zap.Int("status", http.StatusServiceUnavailable), zap.String("reason", "connection limit reached"), zap.Int("max_connections", s.cfg.MaxConnections))
		identity.WriteError(w, r, http.StatusServiceUnavailable,
			fmt.Sprintf("connection limit (%d) reached; retry later", s.cfg.MaxConnections))
		return
	}

	opts := &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns, Subprotocols: s.subprotocols}
	if s.authMarker != "" && identity.SubprotocolToken(r, s.authMarker) != "" {
		opts.Subprotocols = s.authSubprotocols
	}
	aw := &acceptWriter{ResponseWriter: w}
	ws, err := websocket.Accept(aw, r, opts)
	if err != nil {
		s.active.Add(-1)
		s.wg.Done()
		s.refuseHandshake(w, r, reqID, aw.refused, err)
		return
	}
	// The connection runs on a goroutine of its own, so an idle one holds
	// nothing of the HTTP handler chain.
	go s.serveConn(s.newContext(r, reqID), ws, aw.conn)
}

// refuseHandshake answers an upgrade that coder/websocket refused, with a
// JSON body in place of its plain-text one.
func (s *Server) refuseHandshake(w http.ResponseWriter, r *http.Request, reqID string, status int, err error) {
	if status == 0 {
		status = http.StatusBadRequest
	}
	msg := fmt.Sprintf("bad WebSocket handshake: %v", err)
	if status == http.StatusForbidden && r.Header.Get("Origin") != "" {
		msg = fmt.Sprintf("origin %q is not allowed; add its host to Config.OriginPatterns to allow it", r.Header.Get("Origin"))
	}
	s.log.Info("upgrade refused", zap.String("request_id", reqID), zap.Int("status", status), zap.String("reason", logtext.Escape(msg)))
	identity.WriteError(w, r, status, msg)
}

// begin registers a connection unless the server is draining.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.wg.Add(1)
	return true
}

// serveConn runs the gateway for one upgraded connection and ends it.
func (s *Server) serveConn(ctx *Context, ws *websocket.Conn, raw net.Conn) {
	defer s.wg.Done()
	defer s.active.Add(-1)
	conn := newConn(ws, raw, &s.cfg)
	conn.ctx, ctx.conn = ctx, conn

	s.conns.add(conn)
	if s.cfg.Hub != nil {
		s.cfg.Hub.add(conn)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.ConnOpened()
	}
	// A connection accepted while Shutdown was taking its snapshot drains
	// now.
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		conn.drain(StatusGoingAway, "server shutting down", ErrShutdown)
	}
	conn.startHeartbeat()
	start := time.Now()
	s.logOpened(ctx, ws)

	err := s.runGateway(ctx, conn)
	switch {
	case errors.Is(err, ErrGatewayPanic):
		conn.closeWith(StatusInternalError, "internal error", err, false)
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrMessageDropped):
		// A read loop that returns on any error ends here on the first
		// message over the rate: that is the peer's fault, not the gateway's.
		conn.closeWith(StatusPolicyViolation, "message rate exceeded", err, true)
	case err != nil && !conn.isNormalEnd(err):
		ctx.Logger().Error("gateway failed", zap.Error(err))
		conn.closeWith(StatusInternalError, "internal error", err, true)
	default:
		conn.closeWith(StatusNormalClosure, "", nil, true)
	}
	status := conn.finish()
	s.conns.remove(conn)
	if s.cfg.Hub != nil {
		s.cfg.Hub.remove(conn)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.ConnClosed(status)
	}
	s.logClosed(ctx, status, start)

	if dh, ok := s.gw.(DisconnectHandler); ok {
		func() {
			defer func() {
				if p := recover(); p != nil {
					ctx.Logger().Error("OnDisconnect panicked", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				}
			}()
			dh.OnDisconnect(ctx, status)
		}()
	}
}

// logOpened and logClosed write the debug lines of a connection. They stay
// out of serveConn, whose frame sits under every idle connection's read:
// their zap.Field arrays would double that goroutine's stack from 4 KiB to
// 8 KiB.
//
//go:noinline
func (s *Server) logOpened(ctx *Context, ws *websocket.Conn) {
	if ce := s.log.Check(zap.DebugLevel, "connection opened"); ce != nil {
		ce.Write(zap.String("request_id", ctx.requestID), zap.String("conn_id", ctx.connID),
			zap.String("remote", ctx.remoteAddr), zap.String("subprotocol", ws.Subprotocol()))
	}
}

//go:noinline
func (s *Server) logClosed(ctx *Context, status CloseStatus, start time.Time) {
	if ce := s.log.Check(zap.DebugLevel, "connection closed"); ce != nil {
		ce.Write(zap.String("request_id", ctx.requestID), zap.String("conn_id", ctx.connID), zap.Stringer("status", status),
			zap.Duration("duration", time.Since(start)), zap.NamedError("cause", status.Cause))
	}
}

func (s *Server) runGateway(ctx *Context, conn *Conn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			ctx.Logger().Error("gateway panicked", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			err = fmt.Errorf("%w: %v", ErrGatewayPanic, p)
		}
	}()
	return s.gw.OnConnect(ctx, conn)
}

// forceCloseGrace is how long Shutdown waits for handlers after it has
// force-closed their connections.
const forceCloseGrace = 2 * time.Second

// Shutdown stops new upgrades (they get 503), asks every connection to
// close with 1001 once its in-flight requests have replied, and waits for
// the connections to end. When ctx ends first (or after
// Config.ShutdownTimeout when ctx has no deadline), it closes what is left
// at once, waits for those handlers, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	for _, c := range s.conns.snapshot() {
		c.drain(StatusGoingAway, "server shutting down", ErrShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	left := s.conns.snapshot()
	s.log.Warn("shutdown deadline reached; closing remaining connections", zap.Int("connections", len(left)))
	for _, c := range left {
		c.forceClose()
	}
	// Handlers that respect their context return now; do not wait forever
	// on one that does not.
	t := time.NewTimer(forceCloseGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Error("connections still running after shutdown; a handler is ignoring its context", zap.Int("connections", s.conns.len()))
	}
	return fmt.Errorf("wsgateway: shutdown of %s: %w", s.cfg.Path, ctx.Err())
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
