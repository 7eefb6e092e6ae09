package fxforge_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// servingGateway serves the frames of one registry: the app's, or a view of
// it.
type servingGateway struct{ reg *msregistry.Registry }

func (g servingGateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	return wsgateway.Serve(ctx, conn, g.reg)
}

// chatMessage validates itself.
type chatMessage struct {
	Text string `json:"text"`
}

func (m chatMessage) Validate() error {
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("text must not be empty")
	}
	return nil
}

func chatAndAdminPatterns(reg *msregistry.Registry) error {
	send := func(_ context.Context, m chatMessage) (string, error) { return "sent " + m.Text, nil }
	stats := func(ctx context.Context, _ struct{}) (string, error) {
		id, _ := identity.FromContext(ctx)
		return "stats for " + id.Subject, nil
	}
	return errors.Join(
		msregistry.Message(reg, "chat.send", send),
		msregistry.Message(reg, "chat.me", stats, msregistry.WithGuards(identity.Authenticated())),
		msregistry.Message(reg, "admin.stats", stats, msregistry.WithGuards(identity.AnyRole("admin"))),
	)
}

// twoEndpointApp serves the chat patterns at /chat and the admin patterns at
// /admin, each a view of the app's registry.
func twoEndpointApp(t *testing.T) string {
	t.Helper()
	var calls atomic.Int32
	app, base := startApp(t,
		fx.Supply(fx.Annotate(tokens(&calls), fx.As(new(identity.Authenticator)))),
		fxforge.Microservices(),
		fxforge.Patterns(chatAndAdminPatterns),
		fxforge.WebSocketModule("/chat", fxforge.WithGateway(func(reg *msregistry.Registry) servingGateway {
			return servingGateway{reg: reg.Subset("chat.*")}
		})),
		fxforge.WebSocketModule("/admin", fxforge.WithGateway(func(reg *msregistry.Registry) servingGateway {
			return servingGateway{reg: reg.Subset("admin.*")}
		})),
	)
	t.Cleanup(app.RequireStop)
	return base
}

func dialAs(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	header := http.Header{}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	c, _, err := dialWith(url, header)
	if err != nil {
		t.Fatalf("dial %s as %q: %v", url, token, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestPatternGuardRefusesWithAnErrorFrame(t *testing.T) {
	base := twoEndpointApp(t)
	for _, tc := range []struct {
		url, token, pattern string
		code, want          string
	}{
		{"/chat", "", "chat.me", msregistry.CodeUnauthorized, "authentication required"},
		{"/chat", "ada", "chat.me", "", "stats for ada"},
		{"/admin", "", "admin.stats", msregistry.CodeUnauthorized, "authentication required"},
		{"/admin", "ada", "admin.stats", msregistry.CodeForbidden, "requires one of the roles: admin"},
		{"/admin", "root", "admin.stats", "", "stats for root"},
	} {
		c := dialAs(t, base+tc.url, tc.token)
		r := call(t, c, tc.pattern, "")
		if tc.code == "" {
			if got := payloadString(t, r); got != tc.want {
				t.Errorf("%s as %q: %q, want %q", tc.pattern, tc.token, got, tc.want)
			}
			continue
		}
		if r.Kind != "error" || r.Error.Code != tc.code || r.Error.Message != tc.want || r.Pattern != tc.pattern {
			t.Errorf("%s as %q: %+v (%+v), want error %s: %s", tc.pattern, tc.token, r, r.Error, tc.code, tc.want)
		}
		// The connection stays open after a refusal.
		if tc.url == "/chat" {
			if got := payloadString(t, call(t, c, "chat.send", `{"text":"still here"}`)); got != "sent still here" {
				t.Errorf("after the refusal: %q", got)
			}
		}
	}
}

func TestModuleServesItsOwnPatternsOnly(t *testing.T) {
	base := twoEndpointApp(t)
	chat := dialAs(t, base+"/chat", "root")
	admin := dialAs(t, base+"/admin", "root")
	for _, tc := range []struct {
		c       *websocket.Conn
		pattern string
		found   bool
	}{
		{chat, "chat.send", true},
		{chat, "admin.stats", false},
		{admin, "admin.stats", true},
		{admin, "chat.send", false},
	} {
		r := call(t, tc.c, tc.pattern, `{"text":"hi"}`)
		notFound := r.Kind == "error" && r.Error.Code == msregistry.CodeNotFound
		if notFound == tc.found {
			t.Errorf("%s: reply %+v (%+v), found want %v", tc.pattern, r, r.Error, tc.found)
		}
	}
}

func TestFailedValidateIsAnInvalidPayloadFrame(t *testing.T) {
	base := twoEndpointApp(t)
	c := dialAs(t, base+"/chat", "")
	r := call(t, c, "chat.send", `{"text":"   "}`)
	if r.Kind != "error" || r.Error.Code != msregistry.CodeInvalidPayload || r.Error.Message != "text must not be empty" {
		t.Fatalf("reply %+v (%+v), want invalid_payload: text must not be empty", r, r.Error)
	}
	if got := payloadString(t, call(t, c, "chat.send", `{"text":"ok"}`)); got != "sent ok" {
		t.Fatalf("valid message after an invalid one: %q", got)
	}
}

func TestGatewayTakesAGatewayFunc(t *testing.T) {
	hello := func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		if err := conn.WriteText("func"); err != nil {
			return err
		}
		_, _, err := conn.Read(ctx)
		return err
	}
	app, base := startApp(t,
		fxforge.Gateway(wsgateway.GatewayFunc(hello)),
		fxforge.WebSocketModule("/ws"),
		fxforge.WebSocketModule("/plain", fxforge.WithGateway(hello)),
		fxforge.WebSocketModule("/value", fxforge.WithGateway(servingGateway{reg: msregistry.New()})),
	)
	defer app.RequireStop()
	for _, path := range []string{"/ws", "/plain"} {
		c, _ := wstest.Dial(t, base+path, nil)
		if got := wstest.Read(t, c); got != "func" {
			t.Errorf("%s: greeting %q", path, got)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
	c, _ := wstest.Dial(t, base+"/value", nil)
	if r := call(t, c, "nothing", ""); r.Kind != "error" || r.Error.Code != msregistry.CodeNotFound {
		t.Errorf("/value: %+v", r)
	}
}

func TestGatewayRefusesWhatIsNotAGatewayNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  fx.Option
		want string
	}{
		{"no gateway result", fxforge.Gateway(func() *AppConfig { return nil }), "must implement wsgateway.Gateway"},
		{"fx.Annotate", fxforge.Gateway(fx.Annotate(NewGW)), "fx.In parameter struct"},
		{"a value", fxforge.WebSocketModule("/x", fxforge.WithGateway(42)), "neither a constructor function nor a value that implements wsgateway.Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, tc.opt).Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestGatewayConstructorMissingADependencyIsNamed(t *testing.T) {
	err := fx.New(fx.NopLogger,
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.WebSocketModule("/ws", fxforge.WithGateway(NewGW)), // needs a Store nobody provides
	).Err()
	if err == nil || !strings.Contains(err.Error(), "NewGW") || !strings.Contains(err.Error(), "fxforge_test.Store") {
		t.Fatalf("err = %v, want one naming NewGW and its missing Store", err)
	}
}
