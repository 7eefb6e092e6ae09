package wsgateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Example mounts a gateway on a plain http.ServeMux, without fx: it greets
// each client and serves microservice frames through a registry.
func Example() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "math.double", func(_ context.Context, n int) (int, error) { return 2 * n, nil })

	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText("hello"); err != nil {
			return err
		}
		return wsgateway.Serve(ctx, conn, reg)
	})
	srv := wsgateway.NewServer(gw, wsgateway.Config{Path: "events"})
	mux := http.NewServeMux()
	mux.Handle(srv.Path(), srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/events", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, greeting, _ := c.Read(ctx)
	fmt.Println(string(greeting))

	_ = c.Write(ctx, websocket.MessageText, []byte(`{"kind":"message","pattern":"math.double","payload":21,"metadata":{},"id":"q1"}`))
	_, reply, _ := c.Read(ctx)
	fmt.Println(string(reply))
	c.Close(websocket.StatusNormalClosure, "")
	// Output:
	// hello
	// {"kind":"response","pattern":"math.double","id":"q1","payload":42,"metadata":{}}
}

// ExampleConnFrom reaches the connection that sent a frame from inside a
// registry handler, as NestJS's @ConnectedSocket() does.
func ExampleConnFrom() {
	reg := msregistry.New()
	_ = msregistry.Message(reg, "whoami", func(ctx context.Context, _ struct{}) (string, error) {
		conn, ok := wsgateway.ConnFrom(ctx)
		if !ok {
			return "", errors.New("not called through a WebSocket")
		}
		return conn.ID(), nil
	})
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText(ctx.ConnID()); err != nil {
			return err
		}
		return wsgateway.Serve(ctx, conn, reg)
	})
	hs := httptest.NewServer(wsgateway.Handler(gw, wsgateway.Config{}))
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, id, _ := c.Read(ctx)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"kind":"message","pattern":"whoami","metadata":{},"id":1}`))
	_, reply, _ := c.Read(ctx)
	fmt.Println(strings.Contains(string(reply), `"payload":"`+string(id)+`"`))
	c.Close(websocket.StatusNormalClosure, "")
	// Output: true
}
