package natsbroker_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/wsgateway"
)

// The fan-out benchmarks send each message to fanOutSubscribers clients
// over real loopback sockets, from one publisher, and report deliveries
// per second (messages times subscribers). The publisher sends
// fanOutWindow messages, then waits until every subscriber has them all,
// so no queue overflows. Compare the sub-benchmarks with each other, in
// one run:
//
//	raw-loop        one process, a loop of coder/websocket writes (baseline)
//	one-node        one process, Hub.Send, no broker
//	two-nodes-nats  the publisher on node A, half the subscribers on node B,
//	                Hub.Send through natsbroker and an in-process nats-server
//	...-batch       the subscribers ask for wsgateway.SubprotocolBatch
const (
	fanOutSubscribers = 200
	fanOutWindow      = 64
)

var fanOutFrame = []byte(`{"kind":"event","pattern":"bench.tick","payload":"` + strings.Repeat("x", 64) + `","metadata":{}}`)

func BenchmarkFanOut(b *testing.B) {
	batch := &websocket.DialOptions{Subprotocols: []string{wsgateway.SubprotocolBatch}}
	b.Run("raw-loop", func(b *testing.B) {
		url, ready, broadcast := rawBroadcastServer(b)
		benchFanOut(b, []string{url}, nil, ready, broadcast)
	})
	for _, tc := range []struct {
		name  string
		nodes int
		opts  *websocket.DialOptions
	}{
		{"one-node", 1, nil},
		{"one-node-batch", 1, batch},
		{"two-nodes-nats", 2, nil},
		{"two-nodes-nats-batch", 2, batch},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var nodes []*node
			if tc.nodes == 1 {
				nodes = []*node{startNode(b, nil, wsgateway.Config{})}
			} else {
				ns := startNATS(b, -1)
				nodes = []*node{
					startNode(b, connect(b, ns.ClientURL()), wsgateway.Config{}),
					startNode(b, connect(b, ns.ClientURL()), wsgateway.Config{}),
				}
			}
			var urls []string
			for _, n := range nodes {
				urls = append(urls, n.url+"?room=r")
			}
			ready := func() bool {
				joined := 0
				for _, n := range nodes {
					joined += n.hub.Count("r")
				}
				return joined == fanOutSubscribers
			}
			hub := nodes[0].hub
			benchFanOut(b, urls, tc.opts, ready, func() {
				if err := hub.Send(context.Background(), wsgateway.ToRoom("r"), fanOutFrame); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// benchFanOut dials fanOutSubscribers clients, spread over urls, and
// times b.N calls of publish, each of which must reach every client, once
// ready says the server has them all.
func benchFanOut(b *testing.B, urls []string, opts *websocket.DialOptions, ready func() bool, publish func()) {
	var pending, readers sync.WaitGroup
	b.Cleanup(readers.Wait) // runs after the clients are closed
	for i := range fanOutSubscribers {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, urls[i%len(urls)], opts)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.CloseNow() })
		readers.Go(func() {
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					return
				}
				for frame := range bytes.SplitSeq(data, []byte("\n")) {
					if !bytes.HasPrefix(frame, []byte("id ")) { // not relayGateway's greeting
						pending.Done()
					}
				}
			}
		})
	}
	eventually(b, 10*time.Second, "every subscriber to join", ready)

	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += fanOutWindow {
		n := min(fanOutWindow, b.N-sent)
		pending.Add(n * fanOutSubscribers)
		for range n {
			publish()
		}
		pending.Wait()
	}
	b.ReportMetric(float64(b.N)*fanOutSubscribers/time.Since(start).Seconds(), "deliveries/s")
}

// rawBroadcastServer accepts coder/websocket clients; broadcast writes the
// frame to each in turn, the loop an app without a hub would write.
func rawBroadcastServer(b *testing.B) (url string, ready func() bool, broadcast func()) {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(context.Background())
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		<-ctx.Done()
	}))
	b.Cleanup(hs.Close) // after the clients are closed
	ready = func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(conns) == fanOutSubscribers
	}
	broadcast = func() {
		for _, c := range conns {
			if err := c.Write(context.Background(), websocket.MessageText, fanOutFrame); err != nil {
				b.Fatal(err)
			}
		}
	}
	return "ws" + strings.TrimPrefix(hs.URL, "http"), ready, broadcast
}
