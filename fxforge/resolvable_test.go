package fxforge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// AppConfig, Store and GW are the types of the issue's example app.
type AppConfig struct{ Name string }

type Store interface{ Get() string }

type memStore struct{ v string }

func (m *memStore) Get() string { return m.v }

func NewMemStore() *memStore { return &memStore{v: "mem"} }

// taggedStore is what a decorator makes of a Store.
type taggedStore struct {
	Store
	tag string
}

func (s taggedStore) Get() string { return s.Store.Get() + "+" + s.tag }

// resolved reports what ctx resolves to, or the resolution error.
func resolved(ctx context.Context) string {
	cfg, err := msregistry.Resolve[*AppConfig](ctx)
	if err != nil {
		return err.Error()
	}
	st, err := wsgateway.Resolve[Store](ctx)
	if err != nil {
		return err.Error()
	}
	return cfg.Name + ":" + st.Get()
}

// GW greets with what its Context resolves, then serves the registry it
// resolves from that Context too: its constructor takes a Store only.
type GW struct{ store Store }

func NewGW(s Store) *GW { return &GW{store: s} }

func (g *GW) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	if err := conn.WriteText("gw " + resolved(ctx)); err != nil {
		return err
	}
	reg, err := wsgateway.Resolve[*msregistry.Registry](ctx)
	if err != nil {
		return err
	}
	return wsgateway.Serve(ctx, conn, reg)
}

// resolvingPatterns registers "resolved", which answers what the handler
// context resolves.
func resolvingPatterns(reg *msregistry.Registry) error {
	return msregistry.Message(reg, "resolved", func(ctx context.Context, _ struct{}) (string, error) {
		return resolved(ctx), nil
	})
}

// resolveOverWebSocket starts an app with the GW at /ws and returns what the
// gateway Context and a registry handler resolved.
func resolveOverWebSocket(t *testing.T, opts ...fx.Option) (fromContext, fromHandler string) {
	t.Helper()
	app, base := startApp(t, append(opts,
		fxforge.Microservices(),
		fxforge.Patterns(resolvingPatterns),
		fxforge.Resolvable(new(*msregistry.Registry)),
		fxforge.WebSocketModule("/ws", fxforge.WithGateway(NewGW)),
	)...)
	defer app.RequireStop()
	c, _ := wstest.Dial(t, base+"/ws", nil)
	fromContext = strings.TrimPrefix(wstest.Read(t, c), "gw ")
	fromHandler = payloadString(t, call(t, c, "resolved", ""))
	c.Close(websocket.StatusNormalClosure, "")
	return fromContext, fromHandler
}

func TestValuesResolveHoweverTheyWereProvided(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []fx.Option
		want string
	}{
		{"fx.Supply", []fx.Option{
			fx.Supply(&AppConfig{Name: "supplied"}),
			fx.Supply(fx.Annotate(&memStore{v: "supplied-store"}, fx.As(new(Store)))),
		}, "supplied:supplied-store"},
		{"fx.Provide with fx.Annotate and fx.As", []fx.Option{
			fx.Provide(func() *AppConfig { return &AppConfig{Name: "provided"} }),
			fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		}, "provided:mem"},
		{"fx.Decorate", []fx.Option{
			fx.Supply(&AppConfig{Name: "base"}),
			fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
			fx.Decorate(func(c *AppConfig) *AppConfig { return &AppConfig{Name: c.Name + "+decorated"} }),
			fx.Decorate(func(s Store) Store { return taggedStore{Store: s, tag: "decorated"} }),
		}, "base+decorated:mem+decorated"},
		{"fx.Replace", []fx.Option{
			fx.Provide(func() *AppConfig { return &AppConfig{Name: "original"} }),
			fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
			fx.Replace(&AppConfig{Name: "replaced"}),
			fx.Replace(fx.Annotate(&memStore{v: "replaced-store"}, fx.As(new(Store)))),
		}, "replaced:replaced-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append(tc.opts, fxforge.Resolvable(new(*AppConfig), new(Store)))
			fromContext, fromHandler := resolveOverWebSocket(t, opts...)
			if fromContext != tc.want || fromHandler != tc.want {
				t.Fatalf("gateway Context resolved %q, registry handler %q; want %q", fromContext, fromHandler, tc.want)
			}
		})
	}
}

func TestDecoratedInAModuleResolvesDecoratedFromThatModule(t *testing.T) {
	fromContext, fromHandler := resolveOverWebSocket(t,
		fx.Supply(&AppConfig{Name: "root"}),
		fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		fx.Module("tenant",
			fx.Decorate(func(c *AppConfig) *AppConfig { return &AppConfig{Name: "tenant"} }),
			fxforge.Resolvable(new(*AppConfig), new(Store)),
		),
	)
	if want := "tenant:mem"; fromContext != want || fromHandler != want {
		t.Fatalf("resolved %q and %q, want %q", fromContext, fromHandler, want)
	}
}

func TestProvideMakesConstructorResultsResolvable(t *testing.T) {
	fromContext, fromHandler := resolveOverWebSocket(t,
		fxforge.Provide(func() *AppConfig { return &AppConfig{Name: "ctor"} }),
		fxforge.Provide(func() (Store, error) { return NewMemStore(), nil }),
	)
	if want := "ctor:mem"; fromContext != want || fromHandler != want {
		t.Fatalf("resolved %q and %q, want %q", fromContext, fromHandler, want)
	}
}

func TestProvidePrivateInAModule(t *testing.T) {
	fromContext, _ := resolveOverWebSocket(t,
		fx.Module("config",
			fxforge.Provide(fx.Private, func() *AppConfig { return &AppConfig{Name: "private"} }),
		),
		fxforge.Provide(func() Store { return NewMemStore() }),
	)
	if want := "private:mem"; fromContext != want {
		t.Fatalf("resolved %q, want %q", fromContext, want)
	}
}

func TestProvidedButNotResolvableNamesBothFixes(t *testing.T) {
	fromContext, fromHandler := resolveOverWebSocket(t,
		fx.Supply(&AppConfig{Name: "in the graph"}),
		fxforge.Provide(func() Store { return NewMemStore() }),
	)
	for _, got := range []string{fromContext, fromHandler} {
		for _, want := range []string{"*fxforge_test.AppConfig", "fxforge.Provide(", "fxforge.Resolvable(new(*fxforge_test.AppConfig))"} {
			if !strings.Contains(got, want) {
				t.Errorf("%q does not mention %q", got, want)
			}
		}
	}
}

func TestNotRegisteredErrorIsExported(t *testing.T) {
	_, err := wsgateway.Resolve[*AppConfig](context.Background())
	var nre *msregistry.NotRegisteredError
	if !errors.As(err, &nre) || nre.Type.String() != "*fxforge_test.AppConfig" {
		t.Fatalf("err = %#v, want a *msregistry.NotRegisteredError for *fxforge_test.AppConfig", err)
	}
}

// TestTheIssueExampleWorks is the exact set of calls a new user tried.
func TestTheIssueExampleWorks(t *testing.T) {
	var srv *fxforge.Server
	app := fx.New(
		fx.NopLogger,
		fx.Supply(zap.NewNop()),
		fx.Supply(&AppConfig{Name: "demo"}),
		fx.Decorate(func(c *AppConfig) *AppConfig { return &AppConfig{Name: c.Name + "!"} }),
		fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		fxforge.Resolvable(new(*AppConfig), new(Store)),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Microservices(),
		fxforge.Resolvable(new(*msregistry.Registry)),
		fxforge.Patterns(resolvingPatterns),
		fxforge.WebSocketModule("/ws", fxforge.WithGateway(NewGW)),
		fx.Populate(&srv),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(ctx)
	c, _ := wstest.Dial(t, "http://"+srv.Addr().String()+"/ws", nil)
	if got := wstest.Read(t, c); got != "gw demo!:mem" {
		t.Fatalf("greeting %q", got)
	}
	if got := payloadString(t, call(t, c, "resolved", "")); got != "demo!:mem" {
		t.Fatalf("handler resolved %q", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestResolvableTypeMissingFromTheGraphFailsStartClearly(t *testing.T) {
	events, rec := recordEvents()
	app := fx.New(events,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Resolvable(new(*AppConfig)),
	)
	err := app.Err()
	if err == nil {
		t.Fatal("app built without the *AppConfig it makes resolvable")
	}
	for _, want := range []string{"fxforge.Resolvable(new(*fxforge_test.AppConfig))", "fx.Supply", "fxforge.Provide("} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "makeFuncStub") {
		t.Errorf("error names reflect's generated code: %v", err)
	}
	assertNoMakeFuncStub(t, rec)
}

func TestOneTypeResolvableTwiceWithDifferentValuesFails(t *testing.T) {
	app := fx.New(fx.NopLogger,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fx.Supply(&AppConfig{Name: "root"}),
		fxforge.Resolvable(new(*AppConfig)),
		fx.Module("other",
			fx.Decorate(func(*AppConfig) *AppConfig { return &AppConfig{Name: "other"} }),
			fxforge.Resolvable(new(*AppConfig)),
		),
	)
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "different values") {
		t.Fatalf("err = %v, want one about two different values", err)
	}
	// The same value twice is fine.
	app = fx.New(fx.NopLogger,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Provide(func() *AppConfig { return &AppConfig{} }),
		fxforge.Resolvable(new(*AppConfig)),
	)
	if err := app.Err(); err != nil {
		t.Fatalf("the same value made resolvable twice: %v", err)
	}
}

func TestProvideAndResolvableRefuseWhatTheyCannotTakeNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  fx.Option
		want []string
	}{
		{"fx.Annotate", fxforge.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
			[]string{"fx.Annotate(", "fx.Provide", "fxforge.Resolvable(new(T))"}},
		{"fx.Annotated", fxforge.Provide(fx.Annotated{Name: "primary", Target: NewMemStore}),
			[]string{"fx.Annotated", "fx.Provide", "fxforge.Resolvable(new(T))"}},
		{"a value", fxforge.Provide(&AppConfig{}),
			[]string{"not a constructor function", "fx.Supply"}},
		{"an fx.Out struct", fxforge.Provide(func() struct {
			fx.Out
			S Store
		} {
			panic("never called")
		}), []string{"fx.Out", "fxforge.Resolvable(new(T))"}},
		{"an option", fxforge.Provide(fx.Supply(1)), []string{"fx.Option", "fx.New"}},
		{"Resolvable of a value", fxforge.Resolvable(AppConfig{}), []string{"not a pointer", "new(*AppConfig)"}},
		{"Resolvable of an option", fxforge.Resolvable(fx.Supply(1)), []string{"fx.Option", "new(T)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, tc.opt).Err()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// assertNoMakeFuncStub fails when an fx event from the app names reflect's
// generated code instead of a function a reader can find.
func assertNoMakeFuncStub(t *testing.T, rec *eventRecorder) {
	t.Helper()
	for _, e := range rec.events {
		if s := fmt.Sprintf("%+v", e); strings.Contains(s, "makeFuncStub") {
			t.Errorf("fx event %T names reflect.makeFuncStub: %s", e, s)
		}
	}
}

func TestFxLogsNameFxforgeProviders(t *testing.T) {
	events, rec := recordEvents()
	var srv *fxforge.Server
	app := fx.New(events,
		fx.Supply(zap.NewNop()),
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Provide(func() *AppConfig { return &AppConfig{Name: "logs"} }),
		fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		fxforge.Resolvable(new(Store)),
		fxforge.Microservices(),
		fxforge.Patterns(resolvingPatterns),
		fxforge.Gateway(NewGW),
		fxforge.WebSocketModule("/ws"),
		fxforge.WebSocketModule("/chat", fxforge.WithGateway(newChatGateway)),
		fxforge.Route("GET /health", func() http.HandlerFunc { return func(http.ResponseWriter, *http.Request) {} }),
		fx.Invoke(func(s *fxforge.Server) { srv = s }),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if srv == nil {
		t.Fatal("no server")
	}
	assertNoMakeFuncStub(t, rec)
	var named bool
	for _, e := range rec.events {
		if p, ok := e.(*fxevent.Provided); ok && strings.Contains(p.ConstructorName, "fxforge.collectResolvable") &&
			strings.Contains(p.ConstructorName, "fxforge_test.Store") {
			named = true
		}
	}
	if !named {
		t.Error("no fx event names the collector of fxforge_test.Store")
	}
}

func TestRegistryResolvesWithoutAnHTTPServer(t *testing.T) {
	var reg *msregistry.Registry
	app := fxtest.New(t,
		fx.Supply(zap.NewNop()),
		fx.Supply(&AppConfig{Name: "worker"}),
		fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		fxforge.Resolvable(new(*AppConfig), new(Store)),
		fxforge.Microservices(),
		fxforge.Patterns(resolvingPatterns),
		fx.Populate(&reg),
	)
	app.RequireStart()
	defer app.RequireStop()
	got, err := msregistry.Send[string](context.Background(), msregistry.NewLocalClient(reg), "resolved", nil)
	if err != nil || got != "worker:mem" {
		t.Fatalf("Send = %q, %v; want worker:mem", got, err)
	}
}

func TestRegistryAndGatewaysShareTheAppResolver(t *testing.T) {
	// A context without a resolver (a background job calling the registry)
	// resolves from the same resolver as the gateways.
	var reg *msregistry.Registry
	app, base := startApp(t,
		fx.Supply(&AppConfig{Name: "shared"}),
		fx.Provide(fx.Annotate(NewMemStore, fx.As(new(Store)))),
		fxforge.Resolvable(new(*AppConfig), new(Store)),
		fxforge.Microservices(),
		fxforge.Patterns(resolvingPatterns),
		fxforge.Resolvable(new(*msregistry.Registry)),
		fxforge.WebSocketModule("/ws", fxforge.WithGateway(NewGW)),
		fx.Populate(&reg),
	)
	defer app.RequireStop()
	got, err := msregistry.Send[string](context.Background(), msregistry.NewLocalClient(reg), "resolved", nil)
	if err != nil || got != "shared:mem" {
		t.Fatalf("Send = %q, %v; want shared:mem", got, err)
	}
	c, _ := wstest.Dial(t, base+"/ws", nil)
	if got := wstest.Read(t, c); got != "gw shared:mem" {
		t.Fatalf("greeting %q", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}
