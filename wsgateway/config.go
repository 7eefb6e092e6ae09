package wsgateway

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

// Defaults applied to zero Config fields.
const (
	DefaultPath            = "/ws"
	DefaultReadLimit       = 32 << 10
	DefaultPingInterval    = 25 * time.Second
	DefaultPongTimeout     = 20 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultOutboundQueue   = 256
	DefaultMaxConcurrency  = 16
	DefaultShutdownTimeout = 10 * time.Second
	DefaultRateViolations  = 10
)

// Config configures a gateway endpoint. The zero value is usable: every zero
// field takes the default documented on it. Durations and limits that can be
// switched off take a negative value for "off".
type Config struct {
	// Path is where the gateway is mounted by fxforge.WebSocketModule.
	// "events" becomes "/events"; "" and "/" mean DefaultPath ("/ws").
	Path string

	// OriginPatterns lists extra origins allowed to connect, as
	// coder/websocket's AcceptOptions.OriginPatterns: path.Match patterns
	// for the Origin's host, or for "scheme://host" when the pattern has
	// "://". The request's own host is always allowed, and so are requests
	// without an Origin header (non-browser clients). Default: same origin
	// only. Others get a JSON 403.
	OriginPatterns []string

	// Subprotocols lists the subprotocols the server negotiates, in order of
	// preference. SubprotocolBatch is always offered after them.
	Subprotocols []string

	// ReadLimit is the largest message, in bytes, a peer may send; a larger
	// one closes the connection with 1009. Default 32 KiB; negative: no limit.
	ReadLimit int64

	// PingInterval is how often the server pings an idle peer. Default 25 s;
	// negative: no heartbeat.
	PingInterval time.Duration

	// PongTimeout is how long the server waits for a pong before it closes
	// the connection. Default 20 s.
	PongTimeout time.Duration

	// WriteTimeout bounds a stalled write: a peer that takes no message for
	// between one and 1¼ WriteTimeouts is cut off (recorded as 1013; no
	// close frame can reach a peer that does not read). Default 10 s.
	WriteTimeout time.Duration

	// OutboundQueue is how many messages may wait to be written to one
	// connection; a peer whose queue overflows is closed with 1013. Writers
	// never block on a slow peer. Default 256.
	OutboundQueue int

	// MaxConnections caps open connections on this endpoint; upgrades over
	// it get HTTP 503 with a JSON body. Default 0: no cap.
	MaxConnections int

	// MessageRate is the sustained number of messages per second one
	// connection may send, with MessageBurst as the bucket size (default
	// MessageRate, at least 1). A message over the rate is rejected (Read
	// returns ErrRateLimited; the frame adapter answers an error frame);
	// after RateViolations rejections in a row the connection is closed with
	// 1008. Default 0: no rate limit.
	MessageRate    float64
	MessageBurst   int
	RateViolations int

	// MaxConcurrency bounds how many frames of one connection the frame
	// adapter (Serve) handles at once. Default 16.
	MaxConcurrency int

	// ShutdownTimeout bounds graceful shutdown when the context passed to
	// Shutdown has no deadline. Default 10 s.
	ShutdownTimeout time.Duration

	// Authenticator identifies the caller before the upgrade; nil means
	// every caller is anonymous.
	Authenticator identity.Authenticator

	// Guards run after authentication, before the upgrade; a refusal is a
	// JSON 401 or 403 and no upgrade happens.
	Guards []identity.Guard

	// Resolver serves Resolve[T] in gateway and handler contexts.
	Resolver *msregistry.Resolver

	// Hub, when set, holds this server's connections beside those of other
	// servers sharing it, for rooms and broadcast.
	Hub *Hub

	// Observer, when set, is told about connections and messages, for
	// metrics.
	Observer Observer

	// Logger receives connection logs; nil means no logging.
	Logger *zap.Logger
}

// SubprotocolBatch is the subprotocol a client offers to have messages that
// queue up for it sent several to one WebSocket text message, separated by
// "\n" (each is still one JSON frame; JSON frames hold no raw newline).
// Messages that find no queue still go one to a WebSocket message, so a
// batching client splits every text message on "\n". The server negotiates
// it after Config.Subprotocols and after an authenticator's subprotocol
// marker: a browser that sends its token as a subprotocol cannot batch.
const SubprotocolBatch = "fxforge.batch.v1"

// Validate reports a Config that cannot work as meant: an origin pattern
// that path.Match cannot parse.
func (c Config) Validate() error { return c.validOrigins() }

func (c Config) validOrigins() error {
	var errs []error
	for _, p := range c.OriginPatterns {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("wsgateway: origin pattern %q: %w; fix its brackets or escape special characters with \\", p, err))
		}
	}
	return errors.Join(errs...)
}

// NormalizePath returns the mount path for p: a leading "/" is added, and
// "" and "/" become DefaultPath.
func NormalizePath(p string) string {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return DefaultPath
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Path = NormalizePath(c.Path)
	if c.ReadLimit == 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = DefaultPongTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.OutboundQueue <= 0 {
		c.OutboundQueue = DefaultOutboundQueue
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.MessageRate > 0 {
		if c.MessageBurst <= 0 {
			c.MessageBurst = max(1, int(c.MessageRate))
		}
		if c.RateViolations <= 0 {
			c.RateViolations = DefaultRateViolations
		}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}
