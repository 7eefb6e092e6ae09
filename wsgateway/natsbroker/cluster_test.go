package natsbroker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/wsgateway"
)

// startCluster runs a cluster of two in-process nats-servers on
// 127.0.0.1, routed to each other, shut down when the test ends.
func startCluster(t *testing.T) (s1, s2 *server.Server) {
	t.Helper()
	start := func(routes string) *server.Server {
		s, err := server.NewServer(&server.Options{
			Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "fxforge-test", Host: "127.0.0.1", Port: -1},
			Routes:  server.RoutesFromStr(routes),
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() { stopNATS(s) })
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server did not start")
		}
		return s
	}
	s1 = start("")
	s2 = start(fmt.Sprintf("nats-route://%s", s1.ClusterAddr()))
	eventually(t, reconnectDeadline, "the servers to form a cluster", func() bool {
		return s1.NumRoutes() > 0 && s2.NumRoutes() > 0
	})
	return s1, s2
}

func TestNodeFailsOverToAnotherClusterMemberAndLosesNothingItPublishesAfterward(t *testing.T) {
	s1, s2 := startCluster(t)
	ncA := connect(t, s1.ClientURL())
	disconnected := make(chan struct{}, 1)
	// Node B is given one server's URL only; it learns the others from
	// the cluster.
	ncB := connect(t, s2.ClientURL(), nats.DisconnectErrHandler(func(*nats.Conn, error) {
		select {
		case disconnected <- struct{}{}:
		default:
		}
	}))
	eventually(t, reconnectDeadline, "node B to learn of the other server", func() bool {
		return len(ncB.DiscoveredServers()) > 0
	})
	a := startNode(t, ncA, wsgateway.Config{})
	b := startNode(t, ncB, wsgateway.Config{})
	ann := join(t, a, "lobby")
	bob := join(t, b, "lobby")
	annStream, bobStream := ann.stream(t), bob.stream(t)
	// Interest crosses the route a moment after a subscription is made.
	awaitProbe(t, ann, bob, bobStream, "a message from node A to reach node B")
	awaitProbe(t, bob, ann, annStream, "a message from node B to reach node A")

	stopNATS(s2)
	select {
	case <-disconnected:
	case <-time.After(reconnectDeadline):
		t.Fatal("node B did not notice its server went away")
	}
	// From now on node B buffers what it publishes until it is connected
	// to the other server, then sends it there, where node A still is.
	sendRun(t, bob, annStream, "m%03d", 100, func(m string) bool { return strings.HasPrefix(m, "probe ") })
	if url := ncB.ConnectedUrl(); url != s1.ClientURL() {
		t.Fatalf("node B is connected to %q, want the remaining server %q", url, s1.ClientURL())
	}
}
