package wsgateway_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

type appConfig struct{ name string }

func TestResolveFromGatewayContext(t *testing.T) {
	r := msregistry.NewResolver()
	msregistry.Register(r, &appConfig{name: "demo"})
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		cfg, err := wsgateway.Resolve[*appConfig](ctx)
		if err != nil {
			return err
		}
		_, missing := wsgateway.Resolve[*strings.Builder](ctx)
		if err := conn.WriteText(cfg.name + "|" + missing.Error()); err != nil {
			return err
		}
		_, _, err = conn.Read(ctx)
		return err
	})
	_, url := startServer(t, gw, wsgateway.Config{Resolver: r})
	c, _ := wstest.Dial(t, url, nil)
	got := wstest.ReadText(t, c)
	name, msg, _ := strings.Cut(got, "|")
	if name != "demo" {
		t.Fatalf("resolved name %q, want demo", name)
	}
	for _, want := range []string{"*strings.Builder", "not registered", "fxforge.Provide(", "fxforge.Resolvable(new(*strings.Builder))"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing-type error %q does not mention %q", msg, want)
		}
	}
}

func TestResolveMissingTypeIsNotRegisteredError(t *testing.T) {
	_, err := wsgateway.Resolve[*appConfig](context.Background())
	if !errors.Is(err, msregistry.ErrNotRegistered) {
		t.Fatalf("err = %v, want ErrNotRegistered", err)
	}
	var nre *msregistry.NotRegisteredError
	if !errors.As(err, &nre) || nre.Type != reflect.TypeFor[*appConfig]() {
		t.Fatalf("err = %#v, want a *msregistry.NotRegisteredError naming *appConfig", err)
	}
}
