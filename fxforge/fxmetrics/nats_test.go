package fxmetrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/internal/natstest"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// The broker and NATS series, by the names the tests read them.
const (
	published     = "fxforge_broker_published_total"
	delivered     = "fxforge_broker_delivered_total"
	dropped       = "fxforge_broker_dropped_total"
	publishFailed = "reason=publish_failed"
	decodeFailed  = "reason=decode_failed"
	natsConnected = "fxforge_nats_connected"
	reconnects    = "fxforge_nats_reconnects_total"
)

// roomGateway puts each connection in the room its query names and keeps
// it open until the client leaves.
type roomGateway struct{ hub *wsgateway.Hub }

func newRoomGateway(hub *wsgateway.Hub) *roomGateway { return &roomGateway{hub: hub} }

func (g *roomGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if err := g.hub.Join(conn, ctx.Query().Get("room")); err != nil {
		return err
	}
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			return nil
		}
	}
}

// hubNode is one instance of a scaled-out app: its hub shares rooms with
// the other instances on the same NATS.
type hubNode struct {
	base string // the HTTP server's base URL
	hub  *wsgateway.Hub
	nc   *nats.Conn
	info *fxnats.Info
}

// startHubNode starts an app with a room gateway at /ws, fxforge.Hub,
// fxnats.HubBroker on the NATS of conn, and fxmetrics listed before the
// rest when metricsFirst, else after it. The test stops it.
func startHubNode(t *testing.T, conn fx.Option, metricsFirst bool) *hubNode {
	t.Helper()
	n := &hubNode{}
	opts := []fx.Option{
		conn,
		fxnats.HubBroker(),
		fxforge.Hub(),
		fxforge.Gateway(newRoomGateway),
		fxforge.WebSocketModule("/ws"),
		fx.Populate(&n.hub, &n.nc, &n.info),
	}
	if metricsFirst {
		opts = append([]fx.Option{fxmetrics.Module}, opts...)
	} else {
		opts = append(opts, fxmetrics.Module)
	}
	app, base := startApp(t, opts...)
	t.Cleanup(app.RequireStop)
	n.base = base
	return n
}

// metric returns the value of one series on n's /metrics, and whether it
// is there.
func (n *hubNode) metric(t *testing.T, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, _ := scrape(t, n.base+"/metrics")
	return value(families, name, labels...)
}

// awaitMetric waits until the series on n's /metrics has the value want.
func (n *hubNode) awaitMetric(t *testing.T, who string, want float64, name string, labels ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s %s%v to be %v", who, name, labels, want), func() bool {
		v, ok := n.metric(t, name, labels...)
		return ok && v == want
	})
}

// expectMetrics fails unless each series on n's /metrics has its value.
func (n *hubNode) expectMetrics(t *testing.T, who string, want map[string]float64) {
	t.Helper()
	families, _ := scrape(t, n.base+"/metrics")
	for series, w := range want {
		// series is name or name{label=value}.
		name, label, hasLabel := strings.Cut(strings.TrimSuffix(series, "}"), "{")
		var labels []string
		if hasLabel {
			labels = append(labels, label)
		}
		if v, ok := value(families, name, labels...); !ok || v != w {
			t.Errorf("%s: %s = %v (present %v), want %v", who, series, v, ok, w)
		}
	}
}

// joinRoom opens a WebSocket to n as a member of room and returns it once
// n's hub has it in the room.
func joinRoom(t *testing.T, n *hubNode, room string) *websocket.Conn {
	t.Helper()
	c := dial(t, n.base, "/ws?room="+room)
	c.SetReadLimit(-1)
	eventually(t, "the client to join "+room, func() bool { return n.hub.Count(room) == 1 })
	return c
}

func TestBrokerSeriesCountARoomMessageOnEveryInstance(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	// fxmetrics listed first on one instance, last on the other: the
	// order of the options does not matter.
	a := startHubNode(t, fxnats.Connection(fxnats.Embedded()), true)
	b := startHubNode(t, fxnats.Connection(fxnats.URL(a.info.URL())), false)
	ann := joinRoom(t, a, "lobby")
	bob := joinRoom(t, b, "lobby")

	// One room message from each instance: each publishes one, and each
	// hub gets both, its own included, once whatever the recipients.
	ctx := context.Background()
	for _, s := range []struct {
		from *hubNode
		text string
	}{{a, "one from a"}, {b, "two from b"}} {
		if err := s.from.hub.Send(ctx, wsgateway.ToRoom("lobby"), []byte(s.text)); err != nil {
			t.Fatalf("send %q: %v", s.text, err)
		}
		for name, c := range map[string]*websocket.Conn{"ann": ann, "bob": bob} {
			if got := wstest.Read(t, c); got != s.text {
				t.Fatalf("%s got %q, want %q", name, got, s.text)
			}
		}
	}
	for name, n := range map[string]*hubNode{"instance a": a, "instance b": b} {
		n.awaitMetric(t, name, 2, delivered)
		n.expectMetrics(t, name, map[string]float64{
			published:                           1,
			delivered:                           2,
			dropped + "{" + publishFailed + "}": 0,
			dropped + "{" + decodeFailed + "}":  0,
			natsConnected:                       1,
			reconnects:                          0,
		})
	}
}

func TestNATSSeriesFollowAReconnect(t *testing.T) {
	ns := natstest.Start(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	n := startHubNode(t, fxnats.Connection(fxnats.URL(ns.ClientURL()), fxnats.ReconnectWait(50*time.Millisecond)), true)
	n.awaitMetric(t, "the app", 1, natsConnected)
	n.expectMetrics(t, "before NATS goes away", map[string]float64{reconnects: 0})

	natstest.Stop(ns)
	n.awaitMetric(t, "the app", 0, natsConnected)
	n.expectMetrics(t, "while NATS is away", map[string]float64{reconnects: 0})

	natstest.Start(t, port)
	n.awaitMetric(t, "the app", 1, reconnects)
	n.awaitMetric(t, "the app", 1, natsConnected)
}

func TestBrokerCountsFailedPublishesAsDropped(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	n := startHubNode(t, fxnats.Connection(fxnats.Embedded()), true)
	ctx := context.Background()
	lobby := wsgateway.ToRoom("lobby")

	// Over the server's max_payload (1 MiB by default).
	if err := n.hub.Send(ctx, lobby, bytes.Repeat([]byte("x"), 2<<20)); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("send 2 MiB: %v, want nats.ErrMaxPayload", err)
	}
	n.expectMetrics(t, "after a message over max_payload", map[string]float64{
		published:                           0,
		dropped + "{" + publishFailed + "}": 1,
	})

	// On a closed connection.
	n.nc.Close()
	if err := n.hub.Send(ctx, lobby, []byte("hi")); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("send on a closed connection: %v, want nats.ErrConnectionClosed", err)
	}
	n.expectMetrics(t, "after a send on a closed connection", map[string]float64{
		published:                           0,
		dropped + "{" + publishFailed + "}": 2,
	})
	n.awaitMetric(t, "the app", 0, natsConnected)
}

func TestBrokerCountsAMessageThatIsNotAHubMessageAsDropped(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	n := startHubNode(t, fxnats.Connection(fxnats.Embedded()), true)
	raw, err := nats.Connect(n.info.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Publish(natsbroker.DefaultSubject, []byte("not a hub message")); err != nil {
		t.Fatal(err)
	}
	n.awaitMetric(t, "the app", 1, dropped, decodeFailed)
	n.expectMetrics(t, "the app", map[string]float64{delivered: 0})
}

func TestBrokerAndNATSSeriesOnlyInAppsWithThem(t *testing.T) {
	tests := []struct {
		name       string
		opts       []fx.Option
		nats, hubs bool
	}{
		{"without NATS", []fx.Option{fxforge.Hub()}, false, false},
		{"with a NATS connection and no hub broker", []fx.Option{fxnats.Connection(fxnats.Embedded())}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, base := startApp(t, append(tt.opts, fxmetrics.Module)...)
			defer app.RequireStop()
			families, _ := scrape(t, base+"/metrics")
			for name, want := range map[string]bool{
				natsConnected: tt.nats, reconnects: tt.nats,
				published: tt.hubs, delivered: tt.hubs, dropped: tt.hubs,
			} {
				if _, got := families[name]; got != want {
					t.Errorf("%s on /metrics: %v, want %v", name, got, want)
				}
			}
		})
	}
}
