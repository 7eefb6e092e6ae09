package wsgateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/identity"
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

type AppConfig struct{ AppName string }

// ExampleNewServer is an app without fx: a resolver, a registry whose
// handler resolves from it, and a gateway mounted on a plain ServeMux beside
// another route.
func ExampleNewServer() {
	// What fxforge.Resolvable does for you: make values resolvable by type.
	res := msregistry.NewResolver()
	msregistry.Register(res, &AppConfig{AppName: "plain"})

	reg := msregistry.New(msregistry.WithResolver(res))
	err := msregistry.Message(reg, "app.info", func(ctx context.Context, _ struct{}) (string, error) {
		cfg, err := msregistry.Resolve[*AppConfig](ctx)
		if err != nil {
			return "", err
		}
		return cfg.AppName, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText("connected"); err != nil {
			return err
		}
		return wsgateway.Serve(ctx, conn, reg)
	})
	ws := wsgateway.NewServer(gw, wsgateway.Config{Path: "ws", Resolver: res})

	mux := http.NewServeMux()
	mux.Handle(ws.Path(), ws) // "ws" was normalized to "/ws"
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	hs := httptest.NewServer(identity.RequestIDMiddleware(mux))
	defer hs.Close()
	defer ws.Shutdown(context.Background()) // hijacked sockets: close them first (1001)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"kind":"message","pattern":"app.info","id":1}`))
	_, msg, _ = c.Read(ctx)
	fmt.Println(string(msg))
	c.Close(websocket.StatusNormalClosure, "")
	// Output:
	// connected
	// {"kind":"response","pattern":"app.info","id":1,"payload":"plain","metadata":{}}
}
