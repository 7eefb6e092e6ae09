package fxnats_test

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// Example serves a registry over NATS and calls it through NATS, in one
// app with an embedded server.
func Example() {
	var client msregistry.Client
	app := fx.New(
		fx.NopLogger,
		// fxnats.Module in a real app: NATS_URL, else an embedded server.
		fxnats.Connection(fxnats.Embedded()),
		fxforge.Microservices(),
		fxforge.Patterns(func(reg *msregistry.Registry) error {
			return msregistry.Message(reg, "math.double", func(_ context.Context, n int) (int, error) {
				return 2 * n, nil
			})
		}),
		fxnats.Microservice(natstransport.Name("math")),
		fxnats.Client(),
		fx.Populate(&client),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(ctx)

	n, err := msregistry.Send[int](ctx, client, "math.double", 21)
	fmt.Println(n, err)
	// Output: 42 <nil>
}
