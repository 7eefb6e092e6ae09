package wsgateway

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// originRequest is an upgrade request for host carrying origin.
func originRequest(host, origin string) *http.Request {
	r := &http.Request{Method: http.MethodGet, Host: host, Header: http.Header{}}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

// hasMeta reports whether s has a path.Match metacharacter.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// FuzzCheckOrigin checks that checkOrigin never panics and is
// deterministic, that an origin whose host is the request's host is always
// allowed whatever the patterns, that without patterns nothing else is, and
// that a pattern naming an origin's host (or scheme://host) allows it.
func FuzzCheckOrigin(f *testing.F) {
	f.Add("https://example.com", "example.com", "")
	f.Add("https://EXAMPLE.com:8443", "example.COM:8443", "")
	f.Add("http://evil.example", "example.com", "")
	f.Add("https://app.example.com", "example.com", "*.example.com")
	f.Add("https://app.example.com", "example.com", "https://*.example.com")
	f.Add("http://app.example.com", "example.com", "https://*.example.com")
	f.Add("null", "example.com", "*")
	f.Add("file://", "example.com", "*")
	f.Add("https://[::1]:3000", "[::1]:3000", "[")
	f.Add("https://a@b.example", "b.example", "")
	f.Add("://", "", "")
	f.Add("https://\xff", "\xff", "\\")
	f.Add("HTTPS://Example.com", "example.com", "")
	f.Fuzz(func(t *testing.T, origin, host, pattern string) {
		var patterns []string
		if pattern != "" {
			patterns = strings.Split(pattern, ",")
		}
		r := originRequest(host, origin)
		err := checkOrigin(r, patterns)

		// Deterministic, and it does not modify the request.
		err2 := checkOrigin(r, patterns)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("checkOrigin(%q, host %q, %q) gave %v, then %v", origin, host, patterns, err, err2)
		}
		if r.Header.Get("Origin") != origin || r.Host != host {
			t.Fatal("checkOrigin modified the request")
		}

		// Without an Origin header (a non-browser client) it always allows.
		if err := checkOrigin(originRequest(host, ""), patterns); err != nil {
			t.Fatalf("no Origin, host %q, %q: %v", host, patterns, err)
		}

		u, perr := url.Parse(origin)
		parsed := origin != "" && perr == nil && u.Host != ""
		if origin != "" && !parsed && err == nil {
			t.Fatalf("malformed origin %q allowed", origin)
		}
		if err != nil && !strings.Contains(err.Error(), strconv.Quote(origin)) {
			t.Fatalf("refusal %q does not name the origin %q", err, origin)
		}

		// Same origin only by default.
		if parsed {
			defErr := checkOrigin(r, nil)
			same := strings.EqualFold(u.Host, host)
			if same != (defErr == nil) {
				t.Fatalf("origin %q (host %q) for request host %q: allowed=%v, same host=%v",
					origin, u.Host, host, defErr == nil, same)
			}
			if same && err != nil {
				t.Fatalf("same-host origin %q refused with patterns %q: %v", origin, patterns, err)
			}
			// "*" allows every well-formed origin.
			if err := checkOrigin(r, []string{"*"}); err != nil {
				t.Fatalf("origin %q refused by pattern *: %v", origin, err)
			}
			// A literal pattern naming the host allows it.
			if !hasMeta(u.Host) {
				lit := u.Host
				if isASCII(lit) {
					lit = strings.ToUpper(lit)
				}
				if err := checkOrigin(r, []string{lit}); err != nil {
					t.Fatalf("origin %q refused by its own host as pattern: %v", origin, err)
				}
				if !hasMeta(u.Scheme) && !strings.Contains(u.Host, "://") {
					if err := checkOrigin(r, []string{"x.invalid", u.Scheme + "://" + u.Host}); err != nil {
						t.Fatalf("origin %q refused by pattern %q: %v", origin, u.Scheme+"://"+u.Host, err)
					}
				}
			}
		}

		// Any host that round-trips through a URL is allowed as its own
		// origin, under either scheme and in any case.
		for _, scheme := range []string{"http://", "https://", "HTTPS://"} {
			same := scheme + host
			if su, err := url.Parse(same); err == nil && su.Host == host && host != "" {
				if err := checkOrigin(originRequest(host, same), patterns); err != nil {
					t.Fatalf("same-host origin %q refused for host %q with %q: %v", same, host, patterns, err)
				}
				if isASCII(host) {
					if err := checkOrigin(originRequest(strings.ToUpper(host), same), nil); err != nil {
						t.Fatalf("same-host origin %q refused for host %q: %v", same, strings.ToUpper(host), err)
					}
				}
			}
		}
	})
}

// FuzzHeaderHasToken checks headerHasToken, the Connection/Upgrade token
// test of the upgrade handler: it never panics, finds a token in any
// position of a comma-separated list and across header lines, ignores
// ASCII case and surrounding spaces, and never finds what is not there.
func FuzzHeaderHasToken(f *testing.F) {
	f.Add("Upgrade", "upgrade")
	f.Add("keep-alive, Upgrade", "upgrade")
	f.Add("keep-alive,upgrade ", "upgrade")
	f.Add("notupgrade", "upgrade")
	f.Add("upgrade-insecure", "upgrade")
	f.Add("websocket", "websocket")
	f.Add("WebSocket, h2c", "websocket")
	f.Add(",,,", "")
	f.Add("", "upgrade")
	f.Add("\tUpgrade\t", "upgrade")
	f.Add("up grade", "upgrade")
	f.Add("\xff,\xfe", "\xff")
	f.Fuzz(func(t *testing.T, value, token string) {
		h := http.Header{}
		h.Add("Connection", value)
		got := headerHasToken(h, "Connection", token)
		if got != headerHasToken(h, "Connection", token) {
			t.Fatal("not deterministic")
		}
		if headerHasToken(http.Header{}, "Connection", token) {
			t.Fatalf("token %q found in an empty header", token)
		}
		if headerHasToken(h, "Upgrade", token) {
			t.Fatalf("token %q found under another header", token)
		}

		// A found token is one of the comma-separated elements, trimmed.
		if got {
			found := false
			for _, e := range strings.Split(value, ",") {
				if strings.EqualFold(strings.TrimSpace(e), token) {
					found = true
				}
			}
			if !found {
				t.Fatalf("token %q reported in %q, which does not list it", token, value)
			}
		}

		// A clean token (no comma, no surrounding space) is found in any
		// position and on a second header line.
		if strings.Contains(token, ",") || strings.TrimSpace(token) != token {
			return
		}
		for _, v := range []string{token, value + "," + token, token + " , " + value, value + ",\t" + token + "\t,x"} {
			hh := http.Header{}
			hh.Add("Connection", v)
			if !headerHasToken(hh, "Connection", token) {
				t.Fatalf("token %q not found in %q", token, v)
			}
		}
		two := http.Header{}
		two.Add("Connection", value)
		two.Add("Connection", token)
		if !headerHasToken(two, "Connection", token) {
			t.Fatalf("token %q not found on the second line after %q", token, value)
		}
		// ASCII case does not matter.
		if isASCII(token) {
			if headerHasToken(h, "Connection", strings.ToUpper(token)) != got || headerHasToken(h, "Connection", strings.ToLower(token)) != got {
				t.Fatalf("case changes the answer for %q in %q", token, value)
			}
		}
		// Glued to another token it is not found.
		if token != "" && !strings.ContainsAny(token, " \t") {
			glued := http.Header{}
			glued.Add("Connection", "x"+token)
			if headerHasToken(glued, "Connection", token) && !strings.EqualFold("x"+token, token) {
				t.Fatalf("token %q found inside %q", token, "x"+token)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
