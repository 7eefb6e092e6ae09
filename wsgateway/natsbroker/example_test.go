package natsbroker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// Example gives a Hub a NATS broker, so hubs in other processes on the
// same NATS share its rooms. An in-process nats-server stands in for the
// app's NATS here; an app connects to its NATS_URL.
func Example() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		panic("nats-server did not start")
	}

	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		panic(err)
	}
	defer nc.Close()

	broker := natsbroker.New(nc, natsbroker.WithSubject("chat.hub"))
	hub := wsgateway.NewHub(wsgateway.HubConfig{Broker: broker})
	if err := hub.Start(context.Background()); err != nil {
		panic(err)
	}
	defer hub.Close()
	srv := wsgateway.NewServer(wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := hub.Join(conn, "lobby"); err != nil {
			return err
		}
		// Every member of the lobby but this one, on every node, gets it.
		return hub.Emit(ctx, wsgateway.ToRoom("lobby").Except(conn.ID()), "chat.joined", conn.ID())
	}), wsgateway.Config{Hub: hub})

	fmt.Println(srv.Path(), "shares rooms on", broker.Subject())
	// Output: /ws shares rooms on chat.hub
}
