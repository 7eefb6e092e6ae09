package msregistry_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fxforge/fxforge/msregistry"
)

type benchReq struct {
	UserID string   `json:"userId"`
	Count  int      `json:"count"`
	Tags   []string `json:"tags"`
}

type benchResp struct {
	UserID string `json:"userId"`
	Total  int    `json:"total"`
	OK     bool   `json:"ok"`
}

func benchHandler(_ context.Context, in benchReq) (benchResp, error) {
	return benchResp{UserID: in.UserID, Total: in.Count * len(in.Tags), OK: true}, nil
}

var (
	benchPayload = []byte(`{"userId":"u-12345","count":3,"tags":["a","b","c"]}`)
	benchFrame   = []byte(`{"kind":"message","pattern":"users.count","payload":{"userId":"u-12345","count":3,"tags":["a","b","c"]},"metadata":{"trace":"t-1"},"id":"c-17"}`)
)

func benchRegistry(b *testing.B) *msregistry.Registry {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "users.count", benchHandler); err != nil {
		b.Fatal(err)
	}
	return reg
}

// BenchmarkDispatch measures Registry.Call of a typed message handler.
func BenchmarkDispatch(b *testing.B) {
	reg := benchRegistry(b)
	ctx := context.Background()
	in := msregistry.Incoming{Transport: "bench", Pattern: "users.count", Payload: benchPayload}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Call(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatchBaseline is the same work by hand: decode, call, encode.
func BenchmarkDispatchBaseline(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var in benchReq
		if err := json.Unmarshal(benchPayload, &in); err != nil {
			b.Fatal(err)
		}
		out, err := benchHandler(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrameRoundTrip measures HandleFrame on a full message frame.
func BenchmarkFrameRoundTrip(b *testing.B) {
	reg := benchRegistry(b)
	ctx := context.Background()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		buf, ok = reg.HandleFrame(ctx, "bench", benchFrame, buf[:0])
		if !ok {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkFrameRoundTripBaseline is the same work by hand: decode the
// frame into a struct, call, encode the reply.
func BenchmarkFrameRoundTripBaseline(b *testing.B) {
	ctx := context.Background()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var f struct {
			Kind     string            `json:"kind"`
			Pattern  string            `json:"pattern"`
			Payload  benchReq          `json:"payload"`
			Metadata map[string]string `json:"metadata"`
			ID       json.RawMessage   `json:"id"`
		}
		if err := json.Unmarshal(benchFrame, &f); err != nil {
			b.Fatal(err)
		}
		if f.Kind != "message" || f.Pattern != "users.count" {
			b.Fatal("bad frame")
		}
		out, err := benchHandler(ctx, f.Payload)
		if err != nil {
			b.Fatal(err)
		}
		payload, err := json.Marshal(out)
		if err != nil {
			b.Fatal(err)
		}
		buf = append(buf[:0], `{"kind":"response","pattern":`...)
		buf = append(buf, '"')
		buf = append(buf, f.Pattern...)
		buf = append(buf, `","id":`...)
		buf = append(buf, f.ID...)
		buf = append(buf, `,"payload":`...)
		buf = append(buf, payload...)
		buf = append(buf, `,"metadata":{}}`...)
	}
}

func TestBenchmarkBaselinesMatch(t *testing.T) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "users.count", benchHandler); err != nil {
		t.Fatal(err)
	}
	out, ok := reg.HandleFrame(context.Background(), "bench", benchFrame, nil)
	want := `{"kind":"response","pattern":"users.count","id":"c-17","payload":{"userId":"u-12345","total":9,"ok":true},"metadata":{}}`
	if !ok || string(out) != want {
		t.Errorf("HandleFrame = %s, want %s", out, want)
	}
}
