package natsbroker_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/internal/natstest"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// startNATS starts a nats-server on 127.0.0.1 and port (-1 for a random
// one), stopped when the test ends.
func startNATS(t testing.TB, port int) *server.Server { return natstest.Start(t, port) }

// stopNATS shuts s down and waits until it is gone.
func stopNATS(s *server.Server) { natstest.Stop(s) }

// natsPort returns the port s listens on.
func natsPort(s *server.Server) int { return s.Addr().(*net.TCPAddr).Port }

// connect opens a NATS connection that reconnects quickly and for ever,
// closed when the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.ReconnectWait(10 * time.Millisecond), nats.MaxReconnects(-1)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// node is one app instance: a Server whose Hub shares rooms with other
// nodes through a natsbroker on its own NATS connection.
type node struct {
	hub *wsgateway.Hub
	url string // the gateway's ws:// URL
}

// startNode serves relayGateway with a Hub on nc (nil: a Hub for this
// process only), behind a loopback httptest server; all of it stops when
// the test ends.
func startNode(t testing.TB, nc *nats.Conn, cfg wsgateway.Config, opts ...natsbroker.Option) *node {
	t.Helper()
	var hcfg wsgateway.HubConfig
	if nc != nil {
		hcfg.Broker = natsbroker.New(nc, opts...)
	}
	hub := wsgateway.NewHub(hcfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Hub = hub
	srv := wsgateway.NewServer(relayGateway(hub), cfg)
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		if err := hub.Close(); err != nil {
			t.Errorf("close hub: %v", err)
		}
	})
	return &node{hub: hub, url: "ws" + strings.TrimPrefix(hs.URL, "http") + srv.Path()}
}

// relayGateway tells each client its connection id ("id <id>"), joins the
// room named in the query, then relays what the client sends:
//
//	all <text>      to everyone but the sender
//	to <id> <text>  to connection <id>
//	<text>          to the sender's room, but not the sender
//
// A failed Send is reported to the sender as "send failed: <error>".
func relayGateway(hub *wsgateway.Hub) wsgateway.Gateway {
	return wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		room := ctx.Query().Get("room")
		if err := hub.Join(conn, room); err != nil {
			return err
		}
		if err := conn.WriteText("id " + conn.ID()); err != nil {
			return err
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return err
			}
			t, text := wsgateway.ToRoom(room).Except(conn.ID()), string(data)
			if rest, ok := strings.CutPrefix(text, "all "); ok {
				t, text = wsgateway.ToAll().Except(conn.ID()), rest
			} else if rest, ok := strings.CutPrefix(text, "to "); ok {
				id, msg, _ := strings.Cut(rest, " ")
				t, text = wsgateway.ToConn(id), msg
			}
			if err := hub.Send(ctx, t, []byte(text)); err != nil {
				if err := conn.WriteText("send failed: " + err.Error()); err != nil {
					return err
				}
			}
		}
	})
}

// client is a WebSocket client of a node.
type client struct {
	*websocket.Conn
	id string // its connection id on the server
}

// join dials n as a member of room and reads its connection id.
func join(t testing.TB, n *node, room string) *client {
	t.Helper()
	return joinWith(t, n, room, nil)
}

// joinWith is join with dial options.
func joinWith(t testing.TB, n *node, room string, opts *websocket.DialOptions) *client {
	t.Helper()
	c, _ := wstest.Dial(t, n.url+"?room="+room, opts)
	c.SetReadLimit(-1)
	cl := &client{Conn: c}
	id, ok := strings.CutPrefix(cl.read(t), "id ")
	if !ok {
		t.Fatal("the gateway did not say the connection id")
	}
	cl.id = id
	return cl
}

// read reads one message within a few seconds.
func (c *client) read(t testing.TB) string {
	t.Helper()
	return wstest.Read(t, c.Conn)
}

// expect reads the next message and fails unless it is want.
func (c *client) expect(t testing.TB, who, want string) {
	t.Helper()
	if got := c.read(t); got != want {
		t.Fatalf("%s got %q, want %q", who, got, want)
	}
}

// expectAll reads len(want) messages and fails unless they are want, in
// any order: messages from different senders have no order between them.
func (c *client) expectAll(t testing.TB, who string, want ...string) {
	t.Helper()
	got := make([]string, len(want))
	for i := range got {
		got[i] = c.read(t)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("%s got %q, want %q in any order", who, got, want)
	}
}

// send writes one text message.
func (c *client) send(t testing.TB, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// stream reads c's messages into a channel from a goroutine of its own,
// for tests that wait for something that may or may not come. Do not call
// read after stream.
func (c *client) stream(t testing.TB) <-chan string {
	ch := make(chan string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			select {
			case ch <- string(data):
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		_ = c.CloseNow()
		for range ch {
		}
	})
	return ch
}

// gate is a NATS dialer that refuses to connect while shut, to hold one
// node off NATS while the others reconnect.
type gate struct {
	shut atomic.Bool
	net.Dialer
}

func (g *gate) Dial(network, address string) (net.Conn, error) {
	if g.shut.Load() {
		return nil, errors.New("gate shut by the test")
	}
	return g.Dialer.Dial(network, address)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
