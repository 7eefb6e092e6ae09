package msregistry_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxforge/fxforge/msregistry"
)

type addReq struct {
	A int `json:"a"`
	B int `json:"b"`
}

type addResp struct {
	Sum int `json:"sum"`
}

// Example registers a message handler and an event handler, then calls them
// the way transports do.
func Example() {
	reg := msregistry.New()

	// A message pattern has one request/response handler.
	if err := msregistry.Message(reg, "math.add", func(ctx context.Context, in addReq) (addResp, error) {
		return addResp{Sum: in.A + in.B}, nil
	}); err != nil {
		panic(err)
	}

	// An event pattern may have several fire-and-forget handlers.
	if err := msregistry.Event(reg, "math.done", func(ctx context.Context, in addResp) error {
		call, _ := msregistry.CallFrom(ctx)
		fmt.Printf("event %s via %s: sum=%d\n", call.Pattern, call.Transport, in.Sum)
		return nil
	}); err != nil {
		panic(err)
	}

	ctx := context.Background()
	out, err := reg.Call(ctx, msregistry.Incoming{Transport: "local", Pattern: "math.add", Payload: []byte(`{"a":2,"b":3}`)})
	fmt.Println(string(out), err)

	_ = reg.Emit(ctx, msregistry.Incoming{Transport: "local", Pattern: "math.done", Payload: out})

	_, err = reg.Call(ctx, msregistry.Incoming{Pattern: "math.mul"})
	fmt.Println(err)
	// Output:
	// {"sum":5} <nil>
	// event math.done via local: sum=5
	// not_found: no message handler for pattern "math.mul"
}

// ExampleRegistry_HandleFrame feeds WebSocket frames through the registry,
// as the wsgateway adapter does.
func ExampleRegistry_HandleFrame() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (map[string]string, error) {
		return map[string]string{"name": "fxforge"}, nil
	})

	ctx := context.Background()
	var buf []byte
	for _, frame := range []string{
		`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}`,
		`{"kind":"message","pattern":"app.nope","id":18}`,
		`{"kind":"message"`,
	} {
		reply, ok := reg.HandleFrame(ctx, "websocket", []byte(frame), buf[:0])
		if ok {
			fmt.Println(string(reply))
		}
		buf = reply
	}
	// Output:
	// {"kind":"response","pattern":"app.info","id":"c-17","payload":{"name":"fxforge"},"metadata":{}}
	// {"kind":"error","pattern":"app.nope","id":18,"error":{"code":"not_found","message":"no message handler for pattern \"app.nope\""}}
	// {"kind":"error","error":{"code":"invalid_frame","message":"frame is not valid JSON: unexpected EOF at byte 17; send one JSON object, UTF-8 encoded"}}
}

// ExampleSend calls a handler through the in-process client; a handler's
// *Error comes back as it was returned.
func ExampleSend() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "math.div", func(ctx context.Context, in addReq) (int, error) {
		if in.B == 0 {
			return 0, msregistry.NewError("division_by_zero", "b must not be 0")
		}
		return in.A / in.B, nil
	})

	client := msregistry.NewLocalClient(reg)
	ctx := context.Background()

	q, err := msregistry.Send[int](ctx, client, "math.div", addReq{A: 9, B: 3})
	fmt.Println(q, err)

	_, err = msregistry.Send[int](ctx, client, "math.div", addReq{A: 1})
	var rpcErr *msregistry.Error
	if errors.As(err, &rpcErr) {
		fmt.Println(rpcErr.Code, "-", rpcErr.Message)
	}
	// Output:
	// 3 <nil>
	// division_by_zero - b must not be 0
}
