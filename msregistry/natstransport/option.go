package natstransport

import (
	"time"

	"go.uber.org/zap"
)

// Server defaults; each has a ServerOption.
const (
	// DefaultName is the service name discovery reports, and the default
	// queue group.
	DefaultName = "fxforge"
	// DefaultVersion is the service version discovery reports.
	DefaultVersion = "0.0.0"
	// DefaultMaxInFlight bounds the calls a Server runs at once for one
	// subject.
	DefaultMaxInFlight = 256
)

// DefaultTimeout is how long Client.Send waits for a reply when the context
// has no deadline.
const DefaultTimeout = 10 * time.Second

// ServerOption configures a Server.
type ServerOption func(*serverConfig)

type serverConfig struct {
	name, version, description string
	queueGroup                 string
	maxInFlight                int
	trustIdentity              bool
	log                        *zap.Logger
}

// Name sets the service name that discovery ($SRV.PING, $SRV.INFO,
// $SRV.STATS) reports (default DefaultName). It may hold letters, digits,
// '-' and '_'. Unless QueueGroup says otherwise it is also the queue group.
func Name(name string) ServerOption { return func(c *serverConfig) { c.name = name } }

// Version sets the SemVer version discovery reports (default
// DefaultVersion).
func Version(v string) ServerOption { return func(c *serverConfig) { c.version = v } }

// Description sets the description discovery reports.
func Description(d string) ServerOption { return func(c *serverConfig) { c.description = d } }

// QueueGroup sets the NATS queue group of every pattern's subscription
// (default: the service name). Servers in one queue group share the load:
// each message, and each event, goes to one of them. Servers in different
// groups each get every message and event.
func QueueGroup(name string) ServerOption { return func(c *serverConfig) { c.queueGroup = name } }

// MaxInFlight bounds how many calls a Server runs at once for each subject
// (default DefaultMaxInFlight); further messages wait in the subscription
// until a call ends. 1 serves each subject's messages one at a time, in
// order.
func MaxInFlight(n int) ServerOption { return func(c *serverConfig) { c.maxInFlight = n } }

// TrustIdentity makes the Server take the caller's identity from the
// HeaderIdentity header and put it in the handler's context, where
// identity.FromContext finds it. It is a trust decision: the header is
// whatever the publisher wrote, so enable it only when every client that
// can publish on the service's subjects is trusted to say who its caller
// is (NATS accounts and permissions decide who can). Without it the header
// is ignored and handlers see an anonymous caller.
func TrustIdentity() ServerOption { return func(c *serverConfig) { c.trustIdentity = true } }

// Logger makes the Server log malformed messages, failed replies and event
// errors to log (default zap.NewNop()).
func Logger(log *zap.Logger) ServerOption {
	return func(c *serverConfig) {
		if log != nil {
			c.log = log
		}
	}
}

func newServerConfig(opts []ServerOption) serverConfig {
	c := serverConfig{name: DefaultName, version: DefaultVersion, maxInFlight: DefaultMaxInFlight, log: zap.NewNop()}
	for _, o := range opts {
		o(&c)
	}
	if c.queueGroup == "" {
		c.queueGroup = c.name
	}
	return c
}

// ClientOption configures a Client.
type ClientOption func(*clientConfig)

type clientConfig struct {
	timeout         time.Duration
	forwardIdentity bool
}

// Timeout sets how long Send waits for a reply when its context has no
// deadline (default DefaultTimeout).
func Timeout(d time.Duration) ClientOption { return func(c *clientConfig) { c.timeout = d } }

// ForwardIdentity makes the Client send the identity of the call's context
// (identity.FromContext) in the HeaderIdentity header. Servers use it only
// with TrustIdentity.
func ForwardIdentity() ClientOption { return func(c *clientConfig) { c.forwardIdentity = true } }
