package wsgateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/wstest"
	"github.com/fxforge/fxforge/wsgateway"
)

func TestGreetingCarriesRequestIDOf101(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{})
	c, resp := wstest.Dial(t, url, nil)
	id := resp.Header.Get(identity.HeaderRequestID)
	if id == "" {
		t.Fatal("101 response has no X-Request-Id")
	}
	if got := wstest.ReadText(t, c); got != "connected:"+id {
		t.Fatalf("greeting = %q, want %q", got, "connected:"+id)
	}
}

func TestIncomingRequestID(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{})
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"valid id is kept", "req-42_a.b:c", true},
		{"over-long id is replaced", strings.Repeat("a", identity.MaxRequestIDLength+1), false},
		{"space is replaced", "abc def", false},
		{"encoded newline is replaced", "abc%0d%0aSet-Cookie:x", false},
		{"unicode is replaced", "héllo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h[identity.HeaderRequestID] = []string{tt.in}
			c, resp := wstest.Dial(t, url, &websocket.DialOptions{HTTPHeader: h})
			id := resp.Header.Get(identity.HeaderRequestID)
			if tt.kept != (id == tt.in) {
				t.Fatalf("request id %q became %q; kept=%v", tt.in, id, tt.kept)
			}
			if !identity.ValidRequestID(id) {
				t.Fatalf("response id %q is not a valid request id", id)
			}
			if got := wstest.ReadText(t, c); got != "connected:"+id {
				t.Fatalf("greeting = %q, want connected:%s", got, id)
			}
		})
	}
}

func TestControlCharacterRequestIDIsReplaced(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{})
	// net/http refuses most control characters itself (400) before any
	// handler runs; what it lets through (a tab) must be replaced.
	for _, in := range []string{"abc\x01def", "abc\x7fdef", "tab\there"} {
		resp, _ := rawHandshake(t, url, identity.HeaderRequestID+": "+in)
		id := resp.Header.Get(identity.HeaderRequestID)
		switch resp.StatusCode {
		case http.StatusBadRequest:
		case http.StatusSwitchingProtocols:
			if id == in || !identity.ValidRequestID(id) {
				t.Errorf("id %q was echoed as %q", in, id)
			}
		default:
			t.Errorf("id %q: status %d", in, resp.StatusCode)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":         "/ws",
		"/":        "/ws",
		"  ":       "/ws",
		"events":   "/events",
		"/events":  "/events",
		"/a/b":     "/a/b",
		"chat/v1":  "/chat/v1",
		"/ws":      "/ws",
		" /trim  ": "/trim",
	} {
		if got := wsgateway.NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandlerMountsOnPlainServeMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/events", wsgateway.Handler(echo, wsgateway.Config{Path: "events"}))
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	hs := httptest.NewServer(mux)
	defer hs.Close()

	c, resp := wstest.Dial(t, "ws"+strings.TrimPrefix(hs.URL, "http")+"/events", nil)
	if got := wstest.ReadText(t, c); got != "connected:"+resp.Header.Get(identity.HeaderRequestID) {
		t.Fatalf("greeting = %q", got)
	}
	write(t, c, "hello")
	if got := wstest.ReadText(t, c); got != "hello" {
		t.Fatalf("echo = %q", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// refusal performs a request and decodes the JSON error body.
func refusal(t *testing.T, req *http.Request) (*http.Response, identity.ErrorBody) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body identity.ErrorBody
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if body.StatusCode != resp.StatusCode || body.Message == "" || body.Error == "" {
		t.Fatalf("body %+v does not describe status %d", body, resp.StatusCode)
	}
	if body.RequestID == "" || body.RequestID != resp.Header.Get(identity.HeaderRequestID) {
		t.Fatalf("body request id %q, header %q", body.RequestID, resp.Header.Get(identity.HeaderRequestID))
	}
	return resp, body
}

func upgradeRequest(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "http"+strings.TrimPrefix(url, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return req
}

func TestRefusalsAreJSONWithoutUpgrade(t *testing.T) {
	verify := func(_ context.Context, tok string) (*identity.Identity, error) {
		if tok == "good" {
			return &identity.Identity{Subject: "u1", Roles: []string{"user"}}, nil
		}
		return nil, errors.New("unknown token")
	}
	_, open := startServer(t, echo, wsgateway.Config{})
	_, authed := startServer(t, echo, wsgateway.Config{
		Authenticator: identity.Bearer(verify),
		Guards:        []identity.Guard{identity.Authenticated(), identity.AnyRole("admin")},
	})
	tests := []struct {
		name   string
		url    string
		mutate func(*http.Request)
		status int
		msg    string
	}{
		{"cross-origin upgrade", open, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden, "OriginPatterns"},
		{"plain GET", open, func(r *http.Request) { r.Header.Del("Upgrade"); r.Header.Del("Connection") }, http.StatusUpgradeRequired, "WebSocket client"},
		{"POST", open, func(r *http.Request) { r.Method = http.MethodPost }, http.StatusMethodNotAllowed, "GET"},
		{"no token", authed, func(*http.Request) {}, http.StatusUnauthorized, "authentication required"},
		{"bad token", authed, func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, http.StatusUnauthorized, "invalid credentials"},
		{"malformed authorization", authed, func(r *http.Request) { r.Header.Set("Authorization", "Basic x") }, http.StatusUnauthorized, "Bearer"},
		{"missing role", authed, func(r *http.Request) { r.Header.Set("Authorization", "Bearer good") }, http.StatusForbidden, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := upgradeRequest(t, tt.url)
			tt.mutate(req)
			resp, body := refusal(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tt.status, body)
			}
			if resp.Header.Get("Sec-WebSocket-Accept") != "" {
				t.Fatal("refused request was upgraded")
			}
			if !strings.Contains(body.Message, tt.msg) {
				t.Fatalf("message %q does not mention %q", body.Message, tt.msg)
			}
		})
	}
}

func TestAllowedCrossOriginUpgrade(t *testing.T) {
	_, url := startServer(t, echo, wsgateway.Config{OriginPatterns: []string{"*.example.com"}})
	h := http.Header{"Origin": {"https://app.example.com"}}
	c, _ := wstest.Dial(t, url, &websocket.DialOptions{HTTPHeader: h})
	wstest.ReadText(t, c)
}
