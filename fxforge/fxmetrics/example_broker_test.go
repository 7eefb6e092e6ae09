package fxmetrics_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/wsgateway"
	"github.com/fxforge/fxforge/wsgateway/natsbroker"
)

// ExampleNewBrokerMetrics counts what a hub's NATS broker carries, without
// fx. An in-process nats-server stands in for the app's NATS.
func ExampleNewBrokerMetrics() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		fmt.Println("nats-server did not start")
		return
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	reg := prometheus.NewRegistry()
	metrics, err := fxmetrics.NewBrokerMetrics(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A hub takes the broker (wsgateway.HubConfig.Broker); here the
	// broker is driven by hand, and its subscriber stands in for a hub.
	broker := natsbroker.New(nc, natsbroker.WithObserver(metrics))
	got := make(chan wsgateway.BrokerMessage, 1)
	stop, err := broker.Subscribe(context.Background(), "node-1", func(m wsgateway.BrokerMessage) { got <- m })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	m := wsgateway.BrokerMessage{Node: "node-2", Target: wsgateway.ToRoom("lobby"), Type: wsgateway.MessageText, Data: []byte("hello")}
	if err := broker.Publish(context.Background(), m); err != nil {
		fmt.Println(err)
		return
	}
	<-got

	hs := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer hs.Close()
	printSeries(hs.URL, "fxforge_broker_")
	// Output:
	// fxforge_broker_delivered_total 1
	// fxforge_broker_dropped_total{reason="decode_failed"} 0
	// fxforge_broker_dropped_total{reason="publish_failed"} 0
	// fxforge_broker_dropped_total{reason="slow_consumer"} 0
	// fxforge_broker_published_total 1
}
