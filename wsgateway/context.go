package wsgateway

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"sync"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/resolve"
)

// Context is the context of one WebSocket connection. It is a
// context.Context that is cancelled when the connection ends (the app
// stopping ends every connection); it is never the upgrade request's
// context, though it carries that request's values. It gives the
// connection id, request id, identity, the upgrade request's headers, URL
// and remote address, a logger, and typed resolution. Contexts derived from
// it (a registry handler's, for example) see all of that too: use
// ContextFrom to get it back.
type Context struct {
	context.Context
	connID     string
	requestID  string
	identity   *identity.Identity
	header     http.Header
	url        *url.URL
	remoteAddr string
	base       *zap.Logger // the server's logger; Logger adds the ids
	logOnce    sync.Once
	logger     *zap.Logger
	conn       *Conn
	cancel     context.CancelFunc
}

type contextKey struct{}

// newContext builds the Context of the connection that r upgrades.
func (s *Server) newContext(r *http.Request, reqID string) *Context {
	id, _ := identity.FromContext(r.Context())
	base := context.WithoutCancel(r.Context())
	if s.cfg.Resolver != nil && resolve.FromContext(base) == nil {
		base = resolve.WithResolver(base, s.cfg.Resolver)
	}
	cctx, cancel := context.WithCancel(base)
	return &Context{Context: cctx, connID: rand.Text(), requestID: reqID, identity: id,
		header: r.Header, url: r.URL, remoteAddr: r.RemoteAddr, base: s.log, cancel: cancel}
}

// Value returns the Context itself for ContextFrom and delegates every other
// key to the upgrade request's context.
func (c *Context) Value(key any) any {
	if key == (contextKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// ContextFrom returns the connection Context that ctx is, or is derived
// from: a registry handler called through Serve uses it to reach the
// connection that sent the frame, as NestJS's @ConnectedSocket() does.
func ContextFrom(ctx context.Context) (*Context, bool) {
	c, ok := ctx.Value(contextKey{}).(*Context)
	return c, ok
}

// ConnFrom returns the connection that ctx belongs to; see ContextFrom.
func ConnFrom(ctx context.Context) (*Conn, bool) {
	c, ok := ContextFrom(ctx)
	if !ok {
		return nil, false
	}
	return c.conn, true
}

// ConnID returns the connection's id, made by the server (see Conn.ID).
func (c *Context) ConnID() string { return c.connID }

// RequestID returns the connection's request id, also sent as X-Request-Id
// on the 101 response. The client may choose it: use it for logs and
// tracing, never as an identity.
func (c *Context) RequestID() string { return c.requestID }

// Identity returns the authenticated caller, or nil for an anonymous one.
func (c *Context) Identity() *identity.Identity { return c.identity }

// Header returns the headers of the upgrade request. Do not modify them.
func (c *Context) Header() http.Header { return c.header }

// URL returns the URL of the upgrade request. Do not modify it.
func (c *Context) URL() *url.URL { return c.url }

// Query returns the upgrade request's query parameters, where browsers,
// which cannot set headers on a WebSocket, pass a room or a name. It parses
// the query on each call.
func (c *Context) Query() url.Values { return c.url.Query() }

// RemoteAddr returns the peer's network address as the HTTP server saw it
// (no proxy headers are consulted).
func (c *Context) RemoteAddr() string { return c.remoteAddr }

// Logger returns a logger whose every line carries the connection id and
// request id. It is built on first use, and lazily (zap's WithLazy), so a
// connection whose lines are all below the level pays almost nothing for it.
func (c *Context) Logger() *zap.Logger {
	c.logOnce.Do(func() {
		c.logger = c.base.WithLazy(zap.String("conn_id", c.connID), zap.String("request_id", c.requestID))
	})
	return c.logger
}

// Conn returns the connection this context belongs to.
func (c *Context) Conn() *Conn { return c.conn }
