package fxnats_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

func registerGreet(reg *msregistry.Registry) error {
	return msregistry.Message(reg, "greet", func(ctx context.Context, name string) (string, error) {
		if name == "" {
			return "", msregistry.NewError("bad_request", "name is required")
		}
		call, _ := msregistry.CallFrom(ctx)
		return "hello " + name + " via " + call.Transport, nil
	})
}

func TestMicroserviceServesTheAppsRegistry(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	var server *natstransport.Server
	a1, _, info, logs := app(t,
		fxnats.Module,
		fxforge.Microservices(),
		fxforge.Patterns(registerGreet),
		fxnats.Microservice(natstransport.Name("greeter")),
		fx.Populate(&server),
	)
	a1.RequireStart()
	defer a1.RequireStop()
	if !logged(logs, "serving patterns on NATS") {
		t.Fatalf("no startup log in %v", logs.All())
	}
	if got := server.Info(); got.Name != "greeter" || len(got.Endpoints) != 1 {
		t.Fatalf("Info %+v, want service greeter with one endpoint", got)
	}

	// A second app calls it through the msregistry.Client that fxnats.Client
	// provides.
	var client msregistry.Client
	a2, _, _, _ := app(t, fxnats.Connection(fxnats.URL(info.URL())), fxnats.Client(), fx.Populate(&client))
	a2.RequireStart()
	defer a2.RequireStop()

	ctx := context.Background()
	got, err := msregistry.Send[string](ctx, client, "greet", "ann")
	if err != nil || got != "hello ann via nats" {
		t.Fatalf("greet: %q, %v", got, err)
	}
	_, err = msregistry.Send[string](ctx, client, "greet", "")
	var rpcErr *msregistry.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != "bad_request" {
		t.Fatalf("greet with no name: %v, want bad_request", err)
	}
}
