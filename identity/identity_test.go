package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fxforge/fxforge/identity"
)

func verify(_ context.Context, token string) (*identity.Identity, error) {
	switch token {
	case "admin-token":
		return &identity.Identity{Subject: "ada", Roles: []string{"admin"}}, nil
	case "user-token":
		return &identity.Identity{Subject: "bob", Roles: []string{"user"}}, nil
	}
	return nil, errors.New("unknown token")
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc":                     true,
		"A-Z_a.z:0-9":             true,
		"":                        false,
		"has space":               false,
		"semi;colon":              false,
		"quote\"":                 false,
		"\x00":                    false,
		"ünï":                     false,
		strings.Repeat("x", 128):  true,
		strings.Repeat("x", 129):  false,
		"6ba7b810-9dad-11d1-80b4": true,
	} {
		if got := identity.ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestNewRequestIDIsUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := identity.NewRequestID()
		if !identity.ValidRequestID(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// serve runs h behind the request id and auth middleware and returns the
// response.
func serve(t *testing.T, h http.Handler, req *http.Request, guards ...identity.Guard) *httptest.ResponseRecorder {
	t.Helper()
	auth := identity.Bearer(verify, identity.TokenFromQuery("access_token"), identity.TokenFromSubprotocol("bearer"))
	rec := httptest.NewRecorder()
	identity.RequestIDMiddleware(identity.Middleware(auth, guards...)(h)).ServeHTTP(rec, req)
	return rec
}

var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := identity.FromContext(r.Context())
	if !ok {
		_, _ = w.Write([]byte("anonymous"))
		return
	}
	_, _ = w.Write([]byte(id.Subject))
})

func TestBearerTokenSources(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*http.Request)
		want  string
	}{
		{"header", func(r *http.Request) { r.Header.Set("Authorization", "Bearer user-token") }, "bob"},
		{"header scheme is case-insensitive", func(r *http.Request) { r.Header.Set("Authorization", "bearer admin-token") }, "ada"},
		{"query parameter", func(r *http.Request) { r.URL.RawQuery = "access_token=admin-token" }, "ada"},
		{"subprotocol", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Protocol", "chat, bearer, user-token") }, "bob"},
		{"none is anonymous", func(*http.Request) {}, "anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			tt.setup(req)
			rec := serve(t, whoami, req)
			if rec.Code != 200 || rec.Body.String() != tt.want {
				t.Fatalf("got %d %q, want 200 %q", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestRefusalsAreJSONWithRequestID(t *testing.T) {
	tests := []struct {
		name   string
		auth   string
		guards []identity.Guard
		status int
	}{
		{"invalid token", "Bearer nope", nil, 401},
		{"not a bearer header", "Basic Zm9vOmJhcg==", nil, 401},
		{"empty bearer", "Bearer ", nil, 401},
		{"anonymous behind Authenticated", "", []identity.Guard{identity.Authenticated()}, 401},
		{"anonymous behind AnyRole", "", []identity.Guard{identity.AnyRole("admin")}, 401},
		{"wrong role", "Bearer user-token", []identity.Guard{identity.AnyRole("admin", "ops")}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			req.Header.Set(identity.HeaderRequestID, "req-1")
			rec := serve(t, whoami, req, tt.guards...)
			var body identity.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || body.StatusCode != tt.status || body.RequestID != "req-1" || body.Message == "" {
				t.Fatalf("got %d %+v", rec.Code, body)
			}
			if strings.Contains(rec.Body.String(), "user-token") {
				t.Fatal("refusal leaks the token")
			}
		})
	}
}

func TestAnyRoleAllowsMatchingRole(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := serve(t, whoami, req, identity.Authenticated(), identity.AnyRole("ops", "admin"))
	if rec.Code != 200 || rec.Body.String() != "ada" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
}

func TestAuthenticatorFailureIs500WithoutDetails(t *testing.T) {
	broken := identity.AuthenticatorFunc(func(*http.Request) (*identity.Identity, error) {
		return nil, errors.New("database password is hunter2")
	})
	rec := httptest.NewRecorder()
	identity.RequestIDMiddleware(identity.Middleware(broken)(whoami)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
}

func TestAnonymousLetsEveryCallerInAsAnonymous(t *testing.T) {
	for _, authz := range []string{"", "Bearer expired", "Basic x", "garbage"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		r, err := identity.Check(r, identity.Anonymous())
		if err != nil {
			t.Fatalf("Authorization %q: %v", authz, err)
		}
		if _, ok := identity.FromContext(r.Context()); ok {
			t.Fatalf("Authorization %q: an identity", authz)
		}
		if _, err := identity.Check(r, identity.Anonymous(), identity.Authenticated()); identity.StatusCode(err) != http.StatusUnauthorized {
			t.Fatalf("Authenticated guard after Anonymous: %v, want a 401", err)
		}
	}
}
