// Package natstest starts in-process nats-servers for the tests of the
// packages that use NATS. It is imported by tests only, so the packages
// themselves link no nats-server code.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start starts a nats-server on 127.0.0.1 and port (-1 for a random one)
// and shuts it down, waiting until it is gone, when the test ends.
func Start(t testing.TB, port int) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats-server on port %d: %v", port, err)
	}
	srv.Start()
	t.Cleanup(func() { Stop(srv) })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats-server on port %d did not start within 10s", port)
	}
	return srv
}

// Stop shuts srv down and waits until it is gone; stopping twice is
// harmless.
func Stop(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}
