package wsgateway

import (
	"context"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
)

// Context is the context of one WebSocket connection. It is a
// context.Context that is cancelled when the connection ends (the app
// stopping ends every connection); it is never the upgrade request's
// context. It carries the request id, the identity, the resolver and a
// logger that tags every line with the request id, so contexts derived from
// it (for example a registry handler's) see them too.
type Context struct {
	context.Context
	requestID string
	identity  *identity.Identity
	header    http.Header
	base      *zap.Logger // the server's logger; logger adds the request id
	logOnce   sync.Once
	logger    *zap.Logger
	conn      *Conn
	cancel    context.CancelFunc
}

// RequestID returns the connection's request id, also sent as X-Request-Id
// on the 101 response.
func (c *Context) RequestID() string { return c.requestID }

// Identity returns the authenticated caller, or nil for an anonymous one.
func (c *Context) Identity() *identity.Identity { return c.identity }

// Header returns the headers of the upgrade request. Do not modify them.
func (c *Context) Header() http.Header { return c.header }

// Logger returns a logger whose every line carries the request id. It is
// built on first use, so connections that never log pay nothing for it.
func (c *Context) Logger() *zap.Logger {
	c.logOnce.Do(func() { c.logger = c.base.With(zap.String("request_id", c.requestID)) })
	return c.logger
}

// Conn returns the connection this context belongs to.
func (c *Context) Conn() *Conn { return c.conn }
