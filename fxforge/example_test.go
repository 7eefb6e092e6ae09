package fxforge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Settings is a service that the example resolves through contexts.
type Settings struct{ Greeting string }

// EchoGateway greets, then serves frames through the app's registry.
type EchoGateway struct{ reg *msregistry.Registry }

func (g *EchoGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	s, err := wsgateway.Resolve[*Settings](ctx)
	if err != nil {
		return err
	}
	if err := conn.WriteText(s.Greeting); err != nil {
		return err
	}
	return wsgateway.Serve(ctx, conn, g.reg)
}

// startExample starts app and returns its address and a stop function.
func startExample(opts ...fx.Option) (addr string, stop func(), err error) {
	var srv *fxforge.Server
	app := fx.New(append(opts,
		fx.NopLogger, // fxforge.Logger() in a real app
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fx.Populate(&srv),
	)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return "", nil, err
	}
	return srv.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Stop(ctx)
	}, nil
}

// connect dials the WebSocket at path and returns it with its first
// message.
func connect(ctx context.Context, addr, path string) (*websocket.Conn, string, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	if err != nil {
		return nil, "", err
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, "", err
	}
	return c, string(msg), nil
}

// Example builds an app the way a service would, on a free port, and talks
// to it over a real WebSocket.
func Example() {
	addr, stop, err := startExample(
		// Provided to the graph and resolvable from every context.
		fxforge.Provide(func() *Settings { return &Settings{Greeting: "welcome"} }),
		fxforge.Microservices(),
		fxforge.Patterns(func(reg *msregistry.Registry, s *Settings) error {
			return msregistry.Message(reg, "greet", func(_ context.Context, name string) (string, error) {
				return s.Greeting + ", " + name, nil
			})
		}),
		// The gateway's dependencies come by constructor injection.
		fxforge.Gateway(func(reg *msregistry.Registry) *EchoGateway { return &EchoGateway{reg: reg} }),
		fxforge.WebSocketModule("/ws"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, greeting, err := connect(ctx, addr, "/ws")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	fmt.Println(greeting)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"kind":"message","pattern":"greet","payload":"ada","metadata":{},"id":7}`))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	c.Close(websocket.StatusNormalClosure, "")
	// Output:
	// welcome
	// {"kind":"response","pattern":"greet","id":7,"payload":"welcome, ada","metadata":{}}
}

// Catalog is an interface the graph provides through fx.Annotate and fx.As.
type Catalog interface{ Count() int }

type memCatalog struct{}

func (memCatalog) Count() int { return 3 }

// ExampleResolvable makes values resolvable that plain fx put into the
// graph: a supplied value, decorated, and an implementation provided as an
// interface.
func ExampleResolvable() {
	addr, stop, err := startExample(
		fx.Supply(&Settings{Greeting: "hello"}),
		fx.Decorate(func(s *Settings) *Settings { return &Settings{Greeting: s.Greeting + "!"} }),
		fx.Provide(fx.Annotate(func() memCatalog { return memCatalog{} }, fx.As(new(Catalog)))),
		fxforge.Resolvable(new(*Settings), new(Catalog)),
		fxforge.Gateway(wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
			s, err := wsgateway.Resolve[*Settings](ctx)
			if err != nil {
				return err
			}
			c, err := wsgateway.Resolve[Catalog](ctx)
			if err != nil {
				return err
			}
			return conn.WriteText(fmt.Sprintf("%s %d items", s.Greeting, c.Count()))
		})),
		fxforge.WebSocketModule("/ws"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, greeting, err := connect(ctx, addr, "/ws")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	fmt.Println(greeting)
	// Output: hello! 3 items
}

// AllowedOrigins is the app's own configuration of who may connect.
type AllowedOrigins []string

// NewGatewayConfig builds the gateway settings from the app's
// configuration: an fx constructor with an injected dependency.
func NewGatewayConfig(origins AllowedOrigins) wsgateway.Config {
	return wsgateway.Config{OriginPatterns: origins, MaxConnections: 1000}
}

// ExampleWithConfig takes a module's wsgateway.Config from the graph; a test
// changes it with fx.Decorate (or fx.Replace), as it would any fx value.
func ExampleWithConfig() {
	hello := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		return conn.WriteText("hello")
	})
	for _, test := range []fx.Option{
		fx.Options(),
		fx.Decorate(func(c wsgateway.Config) wsgateway.Config {
			c.OriginPatterns = append(c.OriginPatterns, "staging.example")
			return c
		}),
	} {
		addr, stop, err := startExample(
			fx.Supply(AllowedOrigins{"app.example"}),
			fx.Provide(NewGatewayConfig),
			fxforge.Gateway(hello),
			fxforge.WebSocketModule("/ws"),
			test,
		)
		if err != nil {
			fmt.Println(err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://staging.example"}}})
		if err == nil {
			c.CloseNow()
		}
		fmt.Println(resp.StatusCode)
		cancel()
		stop()
	}
	// Output:
	// 403
	// 101
}

// ExampleRoute mounts a public route and one that authenticates: a bad
// Authorization header does not reach the public one.
func ExampleRoute() {
	auth := identity.Bearer(func(_ context.Context, token string) (*identity.Identity, error) {
		if token == "s3cret" {
			return &identity.Identity{Subject: "ada", Roles: []string{"admin"}}, nil
		}
		return nil, fmt.Errorf("unknown token")
	})
	hello := func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if id, ok := identity.FromContext(r.Context()); ok {
			who = id.Subject
		}
		io.WriteString(w, "hello "+who)
	}
	addr, stop, err := startExample(
		fx.Supply(fx.Annotate(auth, fx.As(new(identity.Authenticator)))),
		fxforge.Route("GET /health", hello),
		fxforge.Route("GET /admin", hello, fxforge.WithAuth(identity.AnyRole("admin"))),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	for _, call := range []struct{ path, token string }{
		{"/health", "expired"}, {"/admin", "expired"}, {"/admin", "s3cret"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+call.path, nil)
		req.Header.Set("Authorization", "Bearer "+call.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(call.path, resp.StatusCode, strings.TrimSpace(string(body)[:min(len(body), 40)]))
	}
	// Output:
	// /health 200 hello anonymous
	// /admin 401 {"statusCode":401,"error":"Unauthorized"
	// /admin 200 hello ada
}

// ChatGateway serves the chat patterns of the app's registry, and no other.
type ChatGateway struct{ reg *msregistry.Registry }

func NewChatGateway(reg *msregistry.Registry) *ChatGateway {
	return &ChatGateway{reg: reg.Subset("chat.*")}
}

func (g *ChatGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	return wsgateway.Serve(ctx, conn, g.reg)
}

// AdminGateway serves the admin patterns, and no other.
type AdminGateway struct{ reg *msregistry.Registry }

func NewAdminGateway(reg *msregistry.Registry) *AdminGateway {
	return &AdminGateway{reg: reg.Subset("admin.*")}
}

func (g *AdminGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	return wsgateway.Serve(ctx, conn, g.reg)
}

func registerChatAndAdmin(reg *msregistry.Registry) error {
	send := func(_ context.Context, text string) (string, error) { return "sent: " + text, nil }
	stats := func(ctx context.Context, _ struct{}) (string, error) {
		id, _ := identity.FromContext(ctx)
		return "stats for " + id.Subject, nil
	}
	return errors.Join(
		msregistry.Message(reg, "chat.send", send),
		msregistry.Message(reg, "admin.stats", stats, msregistry.WithGuards(identity.AnyRole("admin"))),
	)
}

func verifyToken(_ context.Context, token string) (*identity.Identity, error) {
	switch token {
	case "ada-token":
		return &identity.Identity{Subject: "ada"}, nil
	case "root-token":
		return &identity.Identity{Subject: "root", Roles: []string{"admin"}}, nil
	}
	return nil, errors.New("unknown token")
}

// ExampleWebSocketModule serves two endpoints, each with its own gateway and
// its own patterns; the admin endpoint admits authenticated callers only, and
// its pattern admits admins only.
func ExampleWebSocketModule() {
	addr, stop, err := startExample(
		fx.Supply(fx.Annotate(identity.Bearer(verifyToken), fx.As(new(identity.Authenticator)))),
		fxforge.Microservices(),
		fxforge.Patterns(registerChatAndAdmin),
		fxforge.Gateway(NewChatGateway),  // the app's default gateway ...
		fxforge.WebSocketModule("/chat"), // ... served at /chat
		fxforge.WebSocketModule("/admin",
			fxforge.WithGateway(NewAdminGateway), // this module's own gateway
			fxforge.WithConfig(func() wsgateway.Config {
				return wsgateway.Config{Guards: []identity.Guard{identity.Authenticated()}}
			}),
		),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ask := func(path, token, frame string) {
		header := http.Header{}
		if token != "" {
			header.Set("Authorization", "Bearer "+token)
		}
		c, resp, err := websocket.Dial(ctx, "ws://"+addr+path, &websocket.DialOptions{HTTPHeader: header})
		if err != nil {
			fmt.Println(path, token, "upgrade refused:", resp.StatusCode)
			return
		}
		defer c.CloseNow()
		_ = c.Write(ctx, websocket.MessageText, []byte(frame))
		_, reply, _ := c.Read(ctx)
		fmt.Println(path, token, string(reply))
	}
	ask("/chat", "", `{"kind":"message","pattern":"chat.send","payload":"hi","id":1}`)
	ask("/chat", "root-token", `{"kind":"message","pattern":"admin.stats","id":2}`)
	ask("/admin", "", `{"kind":"message","pattern":"admin.stats","id":3}`)
	ask("/admin", "ada-token", `{"kind":"message","pattern":"admin.stats","id":4}`)
	ask("/admin", "root-token", `{"kind":"message","pattern":"admin.stats","id":5}`)
	// Output:
	// /chat  {"kind":"response","pattern":"chat.send","id":1,"payload":"sent: hi","metadata":{}}
	// /chat root-token {"kind":"error","pattern":"admin.stats","id":2,"error":{"code":"not_found","message":"no message handler for pattern \"admin.stats\""}}
	// /admin  upgrade refused: 401
	// /admin ada-token {"kind":"error","pattern":"admin.stats","id":4,"error":{"code":"forbidden","message":"requires one of the roles: admin"}}
	// /admin root-token {"kind":"response","pattern":"admin.stats","id":5,"payload":"stats for root","metadata":{}}
}
