package wsgateway

import (
	"net/http"
	"strings"
	"testing"
)

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
