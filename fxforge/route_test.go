package fxforge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

// tokens is an authenticator that knows two bearer tokens.
func tokens(calls *atomic.Int32) identity.Authenticator {
	return identity.Bearer(func(_ context.Context, tok string) (*identity.Identity, error) {
		calls.Add(1)
		switch tok {
		case "ada":
			return &identity.Identity{Subject: "ada"}, nil
		case "root":
			return &identity.Identity{Subject: "root", Roles: []string{"admin"}}, nil
		}
		return nil, errors.New("unknown token")
	})
}

func get(t *testing.T, url, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPublicRouteIgnoresABadAuthorizationHeader(t *testing.T) {
	var calls atomic.Int32
	app, base := startApp(t,
		fx.Supply(fx.Annotate(tokens(&calls), fx.As(new(identity.Authenticator)))),
		fxforge.Route("GET /health", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := identity.FromContext(r.Context()); ok {
				http.Error(w, "a public route saw an identity", 500)
				return
			}
			io.WriteString(w, "ok")
		}),
	)
	defer app.RequireStop()
	for _, authz := range []string{"", "Bearer expired", "Basic dXNlcjpwYXNz", "garbage"} {
		if code, body := get(t, base+"/health", authz); code != 200 || body != "ok" {
			t.Errorf("Authorization %q: %d %s", authz, code, body)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("a public route ran the authenticator %d times", n)
	}
}

func TestRouteWithAuthAuthenticatesAndGuards(t *testing.T) {
	var calls atomic.Int32
	whoami := func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.FromContext(r.Context())
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, id.Subject)
	}
	app, base := startApp(t,
		fx.Supply(fx.Annotate(tokens(&calls), fx.As(new(identity.Authenticator)))),
		fxforge.Route("GET /whoami", whoami, fxforge.WithAuth()),
		fxforge.Route("GET /admin", whoami, fxforge.WithAuth(identity.AnyRole("admin"))),
	)
	defer app.RequireStop()
	for _, tc := range []struct {
		path, authz string
		code        int
		body        string
	}{
		{"/whoami", "", 200, "anonymous"},
		{"/whoami", "Bearer ada", 200, "ada"},
		{"/whoami", "Bearer expired", 401, "invalid credentials"},
		{"/admin", "", 401, "authentication required"},
		{"/admin", "Bearer ada", 403, "requires one of the roles: admin"},
		{"/admin", "Bearer root", 200, "root"},
	} {
		code, body := get(t, base+tc.path, tc.authz)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s with %q: %d %s, want %d %s", tc.path, tc.authz, code, body, tc.code, tc.body)
		}
		if code != 200 {
			var eb identity.ErrorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.RequestID == "" {
				t.Errorf("%s with %q: refusal %q is not a JSON body with a request id", tc.path, tc.authz, body)
			}
		}
	}
}

func TestWithAuthWithoutAnAuthenticatorFailsClearly(t *testing.T) {
	err := fx.New(fx.NopLogger,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Route("GET /me", http.NotFoundHandler(), fxforge.WithAuth(identity.Authenticated())),
	).Err()
	if err == nil || !strings.Contains(err.Error(), "identity.Authenticator") || !strings.Contains(err.Error(), "fx.As(new(identity.Authenticator))") {
		t.Fatalf("err = %v, want one that says how to add an authenticator", err)
	}
}

func TestRouteHandlerWithShutdownStopsWithTheApp(t *testing.T) {
	gw := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText("hi"); err != nil {
			return err
		}
		_, _, err := conn.Read(ctx)
		return err
	})
	app, base := startApp(t,
		fxforge.Route("/raw", func() *wsgateway.Server { return wsgateway.NewServer(gw, wsgateway.Config{}) }),
	)
	c, _ := wstest.Dial(t, base+"/raw", nil)
	wstest.Read(t, c)
	closed := make(chan websocket.StatusCode, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		closed <- websocket.CloseStatus(err)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-closed:
		if code != websocket.StatusGoingAway {
			t.Fatalf("client saw close code %d, want 1001", code)
		}
	case <-ctx.Done():
		t.Fatal("the client of a Route's wsgateway.Server stayed connected after app.Stop")
	}
}

func TestRouteRefusesWhatIsNotAHandlerNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    any
		want string
	}{
		{"no handler result", func() *AppConfig { return nil }, "must implement http.Handler"},
		{"a value", 42, "neither a constructor function nor a value that implements http.Handler"},
		{"fx.Annotate", fx.Annotate(func() http.Handler { return nil }), "fx.In parameter struct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, fxforge.Route("GET /x", tc.h)).Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `fxforge.Route("GET /x")`) {
				t.Fatalf("err = %v, want one naming the route and %q", err, tc.want)
			}
		})
	}
}

func TestPublicGatewayIgnoresABadAuthorizationHeader(t *testing.T) {
	var calls atomic.Int32
	app, base := startApp(t,
		fx.Supply(fx.Annotate(tokens(&calls), fx.As(new(identity.Authenticator)))),
		fxforge.Provide(newAppConfig),
		fxforge.Gateway(newGreeter),
		fxforge.WebSocketModule("/private"),
		fxforge.WebSocketModule("/public", fxforge.WithConfig(func() wsgateway.Config {
			return wsgateway.Config{Authenticator: identity.Anonymous()}
		})),
	)
	defer app.RequireStop()
	header := http.Header{"Authorization": {"Bearer expired"}}
	if c, resp, err := dialWith(base+"/private", header); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("/private with a bad token: %v, %v; want 401", resp, err)
	}
	c, _, err := dialWith(base+"/public", header)
	if err != nil {
		t.Fatalf("/public with a bad token: %v", err)
	}
	wstest.Read(t, c)
	c.Close(websocket.StatusNormalClosure, "")
}
