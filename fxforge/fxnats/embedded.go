package fxnats

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedReadyTimeout bounds how long the embedded server may take to
// accept connections.
const embeddedReadyTimeout = 10 * time.Second

// startEmbedded starts an in-process nats-server on 127.0.0.1 with a random
// free port, without logging or signal handlers of its own.
func startEmbedded() (*server.Server, error) {
	srv, err := server.NewServer(&server.Options{
		Host:   "127.0.0.1",
		Port:   server.RANDOM_PORT,
		NoLog:  true,
		NoSigs: true,
	})
	if err != nil {
		return nil, fmt.Errorf("fxnats: create embedded NATS server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(embeddedReadyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("fxnats: embedded NATS server not ready after %s; set %s to use an external server", embeddedReadyTimeout, EnvURL)
	}
	return srv, nil
}

// stopEmbedded shuts srv down and waits until it has.
func stopEmbedded(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}
