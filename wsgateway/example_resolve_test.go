package wsgateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

type clock struct{ zone string }

// ExampleResolve registers a value without fx and resolves it from a
// gateway's context. The resolver is an *msregistry.Resolver, the same type
// registry handlers resolve from.
func ExampleResolve() {
	r := msregistry.NewResolver()
	msregistry.Register(r, &clock{zone: "UTC"})

	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		c, err := wsgateway.Resolve[*clock](ctx)
		if err != nil {
			return err
		}
		return conn.WriteText("zone " + c.zone)
	})
	hs := httptest.NewServer(wsgateway.Handler(gw, wsgateway.Config{Resolver: r}))
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	// Output: zone UTC
}
