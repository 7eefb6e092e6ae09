package identity_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fxforge/fxforge/identity"
)

// requestIDChar reports whether c may appear in a request id.
func requestIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0
}

// FuzzValidRequestID checks that ValidRequestID accepts exactly the ids of
// 1 to 128 characters from [A-Za-z0-9._:-], and that EnsureRequestID keeps
// a valid incoming X-Request-Id and replaces any other one with a fresh
// valid id, so what ends up in logs and headers is always safe.
func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{
		"abc", "A-Z_a.z:0-9", "", " ", "has space", "semi;colon", "quote\"", "\x00", "ünï",
		strings.Repeat("x", 128), strings.Repeat("x", 129), "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"line\r\nX-Injected: 1", "\xff", "%2F", "a/b", "a\tb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		valid := identity.ValidRequestID(id)
		want := len(id) >= 1 && len(id) <= identity.MaxRequestIDLength
		for i := 0; i < len(id) && want; i++ {
			want = requestIDChar(id[i])
		}
		if valid != want {
			t.Fatalf("ValidRequestID(%q) = %v, want %v", id, valid, want)
		}

		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header[identity.HeaderRequestID] = []string{id}
		w := httptest.NewRecorder()
		r2, got := identity.EnsureRequestID(w, r)
		if !identity.ValidRequestID(got) {
			t.Fatalf("EnsureRequestID gave invalid id %q for incoming %q", got, id)
		}
		if valid && got != id {
			t.Fatalf("valid incoming id %q replaced by %q", id, got)
		}
		if !valid && got == id {
			t.Fatalf("invalid incoming id %q kept", id)
		}
		if h := w.Header().Get(identity.HeaderRequestID); h != got {
			t.Fatalf("response header %q, id %q", h, got)
		}
		if identity.RequestID(r2.Context()) != got {
			t.Fatalf("context id %q, want %q", identity.RequestID(r2.Context()), got)
		}
	})
}

// FuzzSubprotocolToken checks that SubprotocolToken never panics, returns
// only an entry of the Sec-WebSocket-Protocol list that directly follows
// the marker, and finds a token placed after the marker.
func FuzzSubprotocolToken(f *testing.F) {
	f.Add("bearer, tok-123", "bearer", "tok")
	f.Add("fxforge.v1, bearer, tok-123", "bearer", "tok")
	f.Add("bearer", "bearer", "")
	f.Add("tok, bearer", "bearer", "x")
	f.Add("bearer,,tok", "bearer", "")
	f.Add("bearer, bearer, tok", "bearer", "bearer")
	f.Add(" , ,", "", "")
	f.Add("a,\xff,b", "\xff", "\xfe")
	f.Fuzz(func(t *testing.T, header, marker, token string) {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.Header["Sec-Websocket-Protocol"] = []string{header}
		got := identity.SubprotocolToken(r, marker)
		if got != identity.SubprotocolToken(r, marker) {
			t.Fatal("not deterministic")
		}
		if got != "" {
			var list []string
			for _, p := range strings.Split(header, ",") {
				list = append(list, strings.TrimSpace(p))
			}
			ok := false
			for i := 0; i+1 < len(list); i++ {
				if list[i] == marker && list[i+1] == got {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("SubprotocolToken(%q, %q) = %q, which does not follow the marker", header, marker, got)
			}
			if strings.Contains(got, ",") || strings.TrimSpace(got) != got {
				t.Fatalf("token %q is not a trimmed list entry", got)
			}
		}

		// A clean marker and token, offered as separate header lines or in
		// one list after other protocols, are found.
		clean := func(s string) bool { return s != "" && !strings.Contains(s, ",") && strings.TrimSpace(s) == s }
		if !clean(marker) || !clean(token) {
			return
		}
		r2 := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r2.Header["Sec-Websocket-Protocol"] = []string{"app.v1", marker + " ,\t" + token}
		if marker != "app.v1" {
			if got := identity.SubprotocolToken(r2, marker); got != token {
				t.Fatalf("marker %q, token %q: got %q", marker, token, got)
			}
		}
		// Without the marker there is no token.
		r3 := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r3.Header["Sec-Websocket-Protocol"] = []string{strings.ReplaceAll(header, marker, "")}
		if got := identity.SubprotocolToken(r3, marker); got != "" && !strings.Contains(strings.ReplaceAll(header, marker, ""), marker) {
			t.Fatalf("no marker %q in %q, yet token %q", marker, r3.Header.Get("Sec-Websocket-Protocol"), got)
		}
	})
}

const fuzzSecret = "s3cr3t-Token_42"

// FuzzBearerHeader checks the Bearer authenticator with a verify function
// that accepts one token: it never panics, it authenticates only when the
// request carries exactly that token (in the Authorization header, or,
// opted in, the query parameter or the subprotocol), an Authorization
// header that is present decides on its own, and every refusal is a 401.
func FuzzBearerHeader(f *testing.F) {
	f.Add("Bearer "+fuzzSecret, "", "")
	f.Add("bearer "+fuzzSecret, "", "")
	f.Add("BEARER  "+fuzzSecret+"  ", "", "")
	f.Add("Bearer "+fuzzSecret+"x", "", "")
	f.Add("Bearer x"+fuzzSecret, "", "")
	f.Add("Bearer", "", "")
	f.Add("Bearer ", fuzzSecret, "")
	f.Add("Basic "+fuzzSecret, "", "")
	f.Add("Bearer\t"+fuzzSecret, "", "")
	f.Add("", fuzzSecret, "")
	f.Add("", "", "bearer, "+fuzzSecret)
	f.Add("", "wrong", "bearer, "+fuzzSecret)
	f.Add("", "", fuzzSecret+", bearer")
	f.Add("Bearer "+strings.ToUpper(fuzzSecret), "", "")
	f.Add("Bearer "+fuzzSecret+"\u00a0", "", "")
	f.Fuzz(func(t *testing.T, authz, query, proto string) {
		var verified []string
		verify := func(_ context.Context, tok string) (*identity.Identity, error) {
			verified = append(verified, tok)
			if tok == fuzzSecret {
				return &identity.Identity{Subject: "owner"}, nil
			}
			return nil, errors.New("unknown token")
		}
		headerOnly := identity.Bearer(verify)
		all := identity.Bearer(verify, identity.TokenFromQuery("access_token"), identity.TokenFromSubprotocol("bearer"))

		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if query != "" {
			r.URL.RawQuery = "access_token=" + url.QueryEscape(query)
		}
		if proto != "" {
			r.Header["Sec-Websocket-Protocol"] = []string{proto}
		}

		// Header only.
		id, err := headerOnly.Authenticate(r)
		scheme, rest, _ := strings.Cut(authz, " ")
		headerOK := authz != "" && strings.EqualFold(scheme, "Bearer") && strings.Contains(rest, fuzzSecret)
		checkResult(t, "header only", id, err, headerOK)
		if err == nil && !headerOK {
			t.Fatalf("Authorization %q authenticated", authz)
		}
		if authz == "Bearer "+fuzzSecret && err != nil {
			t.Fatalf("exact header refused: %v", err)
		}
		if err == nil && strings.TrimSpace(rest) != fuzzSecret {
			t.Fatalf("Authorization %q authenticated with token %q", authz, strings.TrimSpace(rest))
		}

		// With query and subprotocol opted in.
		verified = verified[:0]
		id, err = all.Authenticate(r)
		if authz != "" {
			// A present Authorization header decides alone.
			checkResult(t, "all, header present", id, err, headerOK)
			if err == nil && strings.TrimSpace(rest) != fuzzSecret {
				t.Fatalf("Authorization %q authenticated with token %q", authz, strings.TrimSpace(rest))
			}
			return
		}
		viaQuery := query == fuzzSecret
		viaProto := query == "" && identity.SubprotocolToken(r, "bearer") == fuzzSecret
		checkResult(t, "all", id, err, viaQuery || viaProto)
		if err == nil && !viaQuery && !viaProto {
			t.Fatalf("query %q, protocols %q authenticated", query, proto)
		}
		if err == nil && (len(verified) != 1 || verified[0] != fuzzSecret) {
			t.Fatalf("authenticated after verifying %q", verified)
		}
	})
}

// checkResult checks one Authenticate result: an identity exactly when
// there is no error, every error a 401, and, when mayPass is false, a
// refusal.
func checkResult(t *testing.T, what string, id *identity.Identity, err error, mayPass bool) {
	t.Helper()
	if (id == nil) == (err == nil) {
		t.Fatalf("%s: identity %v with error %v", what, id, err)
	}
	if err != nil {
		if code := identity.StatusCode(err); code != http.StatusUnauthorized {
			t.Fatalf("%s: refusal %v answered with %d, want 401", what, err, code)
		}
		if strings.Contains(err.Error(), fuzzSecret) {
			t.Fatalf("%s: refusal %q contains the secret", what, err)
		}
		return
	}
	if !mayPass {
		t.Fatalf("%s: authenticated as %v", what, id)
	}
	if id.Subject != "owner" {
		t.Fatalf("%s: identity %v", what, id)
	}
}
