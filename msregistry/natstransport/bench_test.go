package natstransport_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// benchPayload is a small JSON object, typical of a call.
var benchPayload = []byte(`{"user":"u-123","items":[1,2,3],"note":"benchmark"}`)

// BenchmarkRequestReply measures request/reply on one embedded nats-server:
// raw nats.go (nc.Request against a subscriber that echoes the data) and
// natstransport (Client.Send against a Server whose handler echoes the
// payload). Each iteration makes one call of each, alternately, so both see
// the same machine load; the benchmark reports the time of each kind of
// call and natstransport's throughput as a fraction of raw's
// (raw-ns/natstransport-ns). "sequential" has one caller, "parallel"
// GOMAXPROCS callers.
//
//	go test -run '^$' -bench RequestReply -count 5 ./msregistry/natstransport/
func BenchmarkRequestReply(b *testing.B) {
	ns := startNATS(b, -1)

	echo := connect(b, ns)
	if _, err := echo.Subscribe("bench.raw", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := echo.Flush(); err != nil {
		b.Fatal(err)
	}
	reg := msregistry.New()
	if err := msregistry.Message(reg, "bench.echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	}); err != nil {
		b.Fatal(err)
	}
	serve(b, connect(b, ns), reg)

	nc := connect(b, ns)
	client := natstransport.NewClient(nc)
	// pair makes one raw call and one natstransport call and adds the time
	// of each to rawNS and transportNS.
	pair := func(rawNS, transportNS *atomic.Int64) error {
		start := time.Now()
		if _, err := nc.Request("bench.raw", benchPayload, 5*time.Second); err != nil {
			return err
		}
		mid := time.Now()
		if _, err := client.Send(context.Background(), "bench.echo", json.RawMessage(benchPayload)); err != nil {
			return err
		}
		rawNS.Add(int64(mid.Sub(start)))
		transportNS.Add(int64(time.Since(mid)))
		return nil
	}
	report := func(b *testing.B, rawNS, transportNS *atomic.Int64) {
		n := float64(b.N)
		b.ReportMetric(float64(rawNS.Load())/n, "raw-ns/call")
		b.ReportMetric(float64(transportNS.Load())/n, "natstransport-ns/call")
		b.ReportMetric(float64(rawNS.Load())/float64(transportNS.Load()), "throughput-vs-raw")
	}

	b.Run("sequential", func(b *testing.B) {
		var rawNS, transportNS atomic.Int64
		b.ReportAllocs()
		for b.Loop() {
			if err := pair(&rawNS, &transportNS); err != nil {
				b.Fatal(err)
			}
		}
		report(b, &rawNS, &transportNS)
	})
	b.Run("parallel", func(b *testing.B) {
		var rawNS, transportNS atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := pair(&rawNS, &transportNS); err != nil {
					b.Error(err)
					return
				}
			}
		})
		report(b, &rawNS, &transportNS)
	})
}
