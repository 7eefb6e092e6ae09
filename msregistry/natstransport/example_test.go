package natstransport_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// Example serves a registry over NATS and calls it with a Client, without
// fx. An in-process nats-server stands in for a real one.
func Example() {
	ns, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	reg := msregistry.New()
	_ = msregistry.Message(reg, "math.sum", func(_ context.Context, xs []int) (int, error) {
		if len(xs) == 0 {
			return 0, msregistry.NewError("bad_request", "send at least one number")
		}
		sum := 0
		for _, x := range xs {
			sum += x
		}
		return sum, nil
	})
	srv, err := natstransport.NewServer(nc, reg, natstransport.Name("math"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer srv.Stop(ctx)

	client := natstransport.NewClient(nc)
	sum, err := msregistry.Send[int](ctx, client, "math.sum", []int{1, 2, 3})
	fmt.Println(sum, err)

	_, err = client.Send(ctx, "math.sum", []int{})
	var rpcErr *msregistry.Error
	if errors.As(err, &rpcErr) {
		fmt.Println(rpcErr.Code, "-", rpcErr.Message)
	}

	_, err = client.Send(ctx, "math.product", []int{2, 3})
	fmt.Println(errors.Is(err, natstransport.ErrNoResponders))
	// Output:
	// 6 <nil>
	// bad_request - send at least one number
	// true
}

// ExampleSubject shows the subjects patterns travel on: object patterns
// are normalised as NestJS normalises them.
func ExampleSubject() {
	for _, p := range []string{"users.count", `{"role":"math","cmd":"sum"}`} {
		s, _ := natstransport.Subject(p)
		fmt.Println(s)
	}
	// Output:
	// users.count
	// {"cmd":"sum","role":"math"}
}
