package natstransport_test

import (
	"net"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/internal/natstest"
)

// startNATS starts an embedded nats-server on 127.0.0.1, on port (-1 for a
// random one), and stops it when the test ends.
func startNATS(t testing.TB, port int) *server.Server { return natstest.Start(t, port) }

// connect connects to srv and closes the connection when the test ends.
func connect(t testing.TB, srv *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// restartNATS shuts srv down and starts a new server on the same port, as a
// NATS server restart looks to its clients.
func restartNATS(t testing.TB, srv *server.Server) *server.Server {
	t.Helper()
	port := srv.Addr().(*net.TCPAddr).Port
	srv.Shutdown()
	srv.WaitForShutdown()
	return startNATS(t, port)
}
