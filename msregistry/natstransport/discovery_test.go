package natstransport_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// request sends body to subject and decodes the reply into v.
func request(t *testing.T, nc *nats.Conn, subject string, v any) {
	t.Helper()
	msg, err := nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	if err := json.Unmarshal(msg.Data, v); err != nil {
		t.Fatalf("%s reply %s: %v", subject, msg.Data, err)
	}
}

func TestDiscoveryAnswersTheMicroProtocol(t *testing.T) {
	ns := startNATS(t, -1)
	svc := newService(t)
	srv := serve(t, connect(t, ns), svc.reg,
		natstransport.Name("interop"), natstransport.Version("1.2.3"),
		natstransport.Description("test service"), natstransport.QueueGroup("workers"))
	nc := connect(t, ns)
	client := natstransport.NewClient(nc)
	ctx := testCtx(t)

	for _, subject := range []string{"$SRV.PING", "$SRV.PING.interop", "$SRV.PING.interop." + srv.ID()} {
		var ping micro.Ping
		request(t, nc, subject, &ping)
		if ping.Type != micro.PingResponseType || ping.Name != "interop" || ping.ID != srv.ID() || ping.Version != "1.2.3" {
			t.Fatalf("%s: %+v", subject, ping)
		}
	}

	var info micro.Info
	request(t, nc, "$SRV.INFO.interop", &info)
	if info.Type != micro.InfoResponseType || info.Description != "test service" {
		t.Fatalf("info %+v", info)
	}
	byName := map[string]micro.EndpointInfo{}
	for _, e := range info.Endpoints {
		byName[e.Name] = e
		if e.QueueGroup != "workers" {
			t.Fatalf("endpoint %s in queue group %q, want workers", e.Name, e.QueueGroup)
		}
	}
	for name, want := range map[string]micro.EndpointInfo{
		"math_sum":           {Subject: "math.sum", Metadata: map[string]string{"pattern": "math.sum", "kind": "message"}},
		"app_ping":           {Subject: "app.ping", Metadata: map[string]string{"pattern": "app.ping", "kind": "event"}},
		"cmd_object_pattern": {Subject: `{"cmd":"object.pattern"}`, Metadata: map[string]string{"pattern": `{"cmd":"object.pattern"}`, "kind": "message"}},
	} {
		got, ok := byName[name]
		if !ok || got.Subject != want.Subject || got.Metadata["pattern"] != want.Metadata["pattern"] || got.Metadata["kind"] != want.Metadata["kind"] {
			t.Fatalf("endpoint %s = %+v, want %+v (all: %+v)", name, got, want, info.Endpoints)
		}
	}

	if _, err := client.Send(ctx, "math.sum", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(ctx, "math.sum", "x"); err == nil {
		t.Fatal("math.sum accepted a string")
	}
	// Stats are recorded once a handler returns, just after its reply.
	eventually(t, 10*time.Second, func() error {
		var stats micro.Stats
		request(t, nc, "$SRV.STATS.interop."+srv.ID(), &stats)
		if stats.Type != micro.StatsResponseType || stats.Started.IsZero() {
			t.Fatalf("stats %+v", stats)
		}
		for _, e := range stats.Endpoints {
			if e.Name != "math_sum" {
				continue
			}
			if e.NumRequests != 2 || e.NumErrors != 1 || e.LastError == "" || e.ProcessingTime <= 0 {
				return fmt.Errorf("math.sum stats %+v, want 2 requests, 1 error, time spent", e)
			}
			return nil
		}
		t.Fatalf("no stats for math.sum in %+v", stats.Endpoints)
		return nil
	})
}
