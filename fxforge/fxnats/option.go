package fxnats

import (
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// EnvURL is the environment variable that names the NATS server(s) to
// connect to, for example "nats://127.0.0.1:4222" or a comma-separated list
// of cluster members. When it is unset and no URL option is given, the app
// starts an embedded server.
const EnvURL = "NATS_URL"

// Defaults of the connection; each has an Option.
const (
	// DefaultName is the connection name the NATS server shows for the app.
	DefaultName = "fxforge"
	// DefaultReconnectWait is how long the client waits between reconnect
	// attempts to the same server (nats.go adds up to 100 ms of jitter).
	DefaultReconnectWait = time.Second
	// DefaultReconnectBufSize is how many bytes of publishes the client
	// keeps while it is disconnected; they are sent once it reconnects.
	// Publishes beyond it fail with nats.ErrReconnectBufExceeded.
	DefaultReconnectBufSize = 8 << 20
)

// Option configures Connection.
type Option func(*config)

type config struct {
	url              string
	embedded         bool
	name             string
	reconnectWait    time.Duration
	reconnectBufSize int
	natsOptions      []nats.Option
}

// URL sets the NATS server URL (or a comma-separated list of them); it wins
// over NATS_URL. An empty url means NATS_URL, then the embedded server.
func URL(url string) Option { return func(c *config) { c.url = url } }

// Embedded starts an embedded server even when NATS_URL is set, for tests
// and examples that must not reach a real server.
func Embedded() Option { return func(c *config) { c.embedded = true } }

// Name sets the connection name the NATS server reports for this client
// (default DefaultName).
func Name(name string) Option { return func(c *config) { c.name = name } }

// ReconnectWait sets the pause between reconnect attempts (default
// DefaultReconnectWait). The client reconnects forever.
func ReconnectWait(d time.Duration) Option { return func(c *config) { c.reconnectWait = d } }

// ReconnectBufSize sets how many bytes of publishes are buffered while the
// connection is down (default DefaultReconnectBufSize); -1 disables the
// buffer, so publishes fail at once while disconnected.
func ReconnectBufSize(n int) Option { return func(c *config) { c.reconnectBufSize = n } }

// NATSOptions adds nats.go options (credentials, TLS, ...) to the
// connection. They are applied after fxnats's own, so they win: a
// connect, disconnect, reconnect or error handler given here replaces
// fxnats's, and with it the logs and the fxforge.NATSObserver reports of
// that event.
func NATSOptions(opts ...nats.Option) Option {
	return func(c *config) { c.natsOptions = append(c.natsOptions, opts...) }
}

func newConfig(opts []Option) config {
	c := config{name: DefaultName, reconnectWait: DefaultReconnectWait, reconnectBufSize: DefaultReconnectBufSize}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// source returns the URL to connect to and where it came from ("" when the
// embedded server is to be used). NATS_URL is read here, when the app is
// built, not when the option is made.
func (c config) source() (url, from string) {
	if c.embedded {
		return "", ""
	}
	if c.url != "" {
		return c.url, "fxnats.URL"
	}
	if u := os.Getenv(EnvURL); u != "" {
		return u, EnvURL
	}
	return "", ""
}
