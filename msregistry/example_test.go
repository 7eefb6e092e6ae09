package msregistry_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxforge/fxforge/identity"
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

// ExampleRegistry_AppendCall builds a transport's own reply envelope around
// a handler's result in one buffer, as the NATS transport does.
func ExampleRegistry_AppendCall() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "math.add", func(ctx context.Context, in addReq) (addResp, error) {
		return addResp{Sum: in.A + in.B}, nil
	})

	ctx := context.Background()
	var buf []byte
	for _, payload := range []string{`{"a":2,"b":3}`, `{"a":"two"}`} {
		reply := append(buf[:0], `{"id":"r1","response":`...)
		reply, err := reg.AppendCall(ctx, reply, msregistry.Incoming{Transport: "custom", Pattern: "math.add", Payload: []byte(payload)})
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		reply = append(reply, '}')
		fmt.Println(string(reply))
		buf = reply // reuse the buffer for the next reply
	}
	// Output:
	// {"id":"r1","response":{"sum":5}}
	// error: invalid_payload: payload field "a": cannot decode string into int
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

// ExampleWithGuards protects a pattern: the guard sees the caller's
// identity in the handler context, before the payload is decoded.
func ExampleWithGuards() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "admin.stats", func(ctx context.Context, _ struct{}) (string, error) {
		id, _ := identity.FromContext(ctx)
		return "stats for " + id.Subject, nil
	}, msregistry.WithGuards(identity.AnyRole("admin")))

	frame := []byte(`{"kind":"message","pattern":"admin.stats","id":1}`)
	for _, caller := range []*identity.Identity{
		nil,
		{Subject: "ada"},
		{Subject: "root", Roles: []string{"admin"}},
	} {
		ctx := context.Background()
		if caller != nil {
			ctx = identity.WithIdentity(ctx, caller)
		}
		reply, _ := reg.HandleFrame(ctx, "websocket", frame, nil)
		fmt.Println(string(reply))
	}
	// Output:
	// {"kind":"error","pattern":"admin.stats","id":1,"error":{"code":"unauthorized","message":"authentication required"}}
	// {"kind":"error","pattern":"admin.stats","id":1,"error":{"code":"forbidden","message":"requires one of the roles: admin"}}
	// {"kind":"response","pattern":"admin.stats","id":1,"payload":"stats for root","metadata":{}}
}

// newUser checks itself: its Validate method runs before the handler.
type newUser struct {
	Name string `json:"name"`
}

func (u newUser) Validate() error {
	if u.Name == "" {
		return errors.New("name is required")
	}
	return nil
}

// ExampleValidator shows a failed Validate answering invalid_payload.
func ExampleValidator() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "users.create", func(_ context.Context, u newUser) (string, error) {
		return "created " + u.Name, nil
	})
	client := msregistry.NewLocalClient(reg)
	ctx := context.Background()

	_, err := msregistry.Send[string](ctx, client, "users.create", newUser{})
	fmt.Println(err)
	out, err := msregistry.Send[string](ctx, client, "users.create", newUser{Name: "ada"})
	fmt.Println(out, err)
	// Output:
	// invalid_payload: name is required
	// created ada <nil>
}

// ExampleRegistry_Subset serves only some patterns of a registry, as a
// gateway does for its own endpoint.
func ExampleRegistry_Subset() {
	reg := msregistry.New()
	chat := reg.Subset("chat.*")
	echo := func(_ context.Context, s string) (string, error) { return s, nil }
	_ = msregistry.Message(reg, "chat.send", echo)
	_ = msregistry.Message(reg, "admin.reset", echo)

	ctx := context.Background()
	out, err := chat.Call(ctx, msregistry.Incoming{Pattern: "chat.send", Payload: []byte(`"hi"`)})
	fmt.Println(string(out), err)
	_, err = chat.Call(ctx, msregistry.Incoming{Pattern: "admin.reset", Payload: []byte(`"x"`)})
	fmt.Println(err)
	// Output:
	// "hi" <nil>
	// not_found: no message handler for pattern "admin.reset"
}

// ExampleResolve makes a value resolvable without fx; fxforge.Resolvable and
// fxforge.Provide fill the same resolver from the fx graph.
func ExampleResolve() {
	res := msregistry.NewResolver()
	msregistry.Register(res, &addResp{Sum: 42})
	reg := msregistry.New(msregistry.WithResolver(res))
	_ = msregistry.Message(reg, "answer", func(ctx context.Context, _ struct{}) (int, error) {
		a, err := msregistry.Resolve[*addResp](ctx)
		if err != nil {
			return 0, err
		}
		return a.Sum, nil
	})
	out, _ := reg.Call(context.Background(), msregistry.Incoming{Pattern: "answer"})
	fmt.Println(string(out))

	_, err := msregistry.Resolve[*addReq](msregistry.ContextWithResolver(context.Background(), res))
	var nre *msregistry.NotRegisteredError
	fmt.Println(errors.As(err, &nre), nre.Type)
	// Output:
	// 42
	// true *msregistry_test.addReq
}
