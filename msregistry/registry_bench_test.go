//go:build unix

package msregistry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
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

// loopCPU runs op in the benchmark loop and reports, beside the wall time,
// the process's CPU time per op (user and system, the garbage collector
// included) as cpu-ns/op, and per byte of frame as cpu-ns/B when size is
// set. On a machine shared with other work it varies far less than ns/op.
func loopCPU(b *testing.B, size int, op func()) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		op()
	}
	perOp := float64(cpuTime(b)-start) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	if size > 0 {
		b.SetBytes(int64(size))
		b.ReportMetric(perOp/float64(size), "cpu-ns/B")
	}
}

func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDispatch measures Registry.Call of a typed message handler.
func BenchmarkDispatch(b *testing.B) {
	reg := benchRegistry(b)
	ctx := context.Background()
	in := msregistry.Incoming{Transport: "bench", Pattern: "users.count", Payload: benchPayload}
	loopCPU(b, 0, func() {
		if _, err := reg.Call(ctx, in); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDispatchBaseline is the same work by hand: decode, call, encode.
func BenchmarkDispatchBaseline(b *testing.B) {
	ctx := context.Background()
	loopCPU(b, 0, func() {
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
	})
}

// BenchmarkFrameRoundTrip measures HandleFrame on a full message frame.
func BenchmarkFrameRoundTrip(b *testing.B) {
	benchRoundTrip(b, benchRegistry(b), benchFrame)
}

// BenchmarkFrameRoundTripBaseline is the same work with encoding/json
// alone.
func BenchmarkFrameRoundTripBaseline(b *testing.B) {
	benchRoundTripBaseline(b, benchFrame, "users.count", benchHandler)
}

// appInfo is the reply of app.info in examples/hello-websockets.
type appInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
	Pings     int64  `json:"pings"`
}

var appInfoFrame = []byte(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"1"}`)

func appInfoHandler(ctx context.Context, _ struct{}) (appInfo, error) {
	call, _ := msregistry.CallFrom(ctx)
	return appInfo{AppName: "fxforge", Transport: call.Transport}, nil
}

// BenchmarkAppInfoRoundTrip measures HandleFrame on the app.info frame of
// examples/hello-websockets.
func BenchmarkAppInfoRoundTrip(b *testing.B) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "app.info", appInfoHandler); err != nil {
		b.Fatal(err)
	}
	benchRoundTrip(b, reg, appInfoFrame)
}

// BenchmarkAppInfoRoundTripBaseline is the same work with encoding/json
// alone.
func BenchmarkAppInfoRoundTripBaseline(b *testing.B) {
	benchRoundTripBaseline(b, appInfoFrame, "app.info", appInfoHandler)
}

// benchRoundTrip measures HandleFrame on a message frame: decode,
// dispatch, encode.
func benchRoundTrip(b *testing.B, reg *msregistry.Registry, frame []byte) {
	ctx := context.Background()
	var buf []byte
	loopCPU(b, 0, func() {
		var ok bool
		buf, ok = reg.HandleFrame(ctx, "bench", frame, buf[:0])
		if !ok {
			b.Fatal("no reply")
		}
	})
}

// benchRoundTripBaseline does the work of HandleFrame with encoding/json
// alone: decode the frame into a struct, call h, encode the reply.
func benchRoundTripBaseline[P, R any](b *testing.B, frame []byte, pattern string, h func(context.Context, P) (R, error)) {
	ctx := context.Background()
	var buf []byte
	loopCPU(b, 0, func() {
		var f struct {
			Kind     string            `json:"kind"`
			Pattern  string            `json:"pattern"`
			Payload  P                 `json:"payload"`
			Metadata map[string]string `json:"metadata"`
			ID       json.RawMessage   `json:"id"`
		}
		if err := json.Unmarshal(frame, &f); err != nil {
			b.Fatal(err)
		}
		if f.Kind != "message" || f.Pattern != pattern {
			b.Fatal("bad frame")
		}
		out, err := h(ctx, f.Payload)
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
	})
}

// BenchmarkFrameShapes runs HandleFrame on frames of every hostile shape,
// at 4 KiB and at the 32 KiB read limit, beside plain frames of the same
// sizes. Compare each shape's cpu-ns/B with plain's (the cost per byte of
// frame) and each shape's 32 KiB figure with its 4 KiB one (the cost grows
// with the size, never faster).
func BenchmarkFrameShapes(b *testing.B) {
	reg := codecRegistry(b)
	ctx := context.Background()
	for _, size := range []int{4 << 10, 32 << 10} {
		for _, s := range frameShapes(size) {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, s.name), func(b *testing.B) {
				var buf []byte
				loopCPU(b, len(s.frame), func() {
					buf, _ = reg.HandleFrame(ctx, "bench", s.frame, buf[:0])
				})
			})
		}
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
