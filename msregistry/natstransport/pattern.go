package natstransport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of NestJS's pattern normalisation, mirrored so both sides derive
// the same subject.
const (
	maxPatternDepth = 5
	maxPatternKeys  = 20
)

// isObjectPattern reports whether pattern is an object pattern such as
// {"cmd":"sum"}: it starts with '{'.
func isObjectPattern(pattern string) bool {
	return strings.HasPrefix(pattern, "{")
}

// Subject returns the NATS subject a pattern travels on, as NestJS derives
// it. A string pattern is its own subject. An object pattern (a pattern that
// starts with '{', such as {"role":"math","cmd":"sum"}) is rewritten the way
// NestJS's transformPatternToRoute writes it: keys sorted as JavaScript's
// localeCompare sorts them, no spaces, string values quoted, numbers as
// JavaScript prints them, nested objects (and arrays, as objects keyed by
// index) written the same way:
//
//	{"role":"math","cmd":"sum"}  ->  {"cmd":"sum","role":"math"}
//
// Keys of ASCII letters, digits and punctuation sort exactly as NestJS
// sorts them; other characters sort after them by code point. An object
// pattern that is not valid JSON is an error.
func Subject(pattern string) (string, error) {
	if !isObjectPattern(pattern) {
		return pattern, nil
	}
	v, err := decodePattern(pattern)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeRoute(&b, v, 0)
	return b.String(), nil
}

// decodePattern parses an object pattern, keeping numbers as written.
func decodePattern(pattern string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(pattern))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("natstransport: object pattern %q is not valid JSON: %w; write it as a JSON object such as {\"cmd\":\"sum\"}", pattern, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("natstransport: object pattern %q has data after the object; write one JSON object such as {\"cmd\":\"sum\"}", pattern)
	}
	return v, nil
}

// patternJSON returns the JSON of pattern for the "pattern" field of a
// packet: a JSON string, or the compacted object of an object pattern.
func patternJSON(pattern string) ([]byte, error) {
	if !isObjectPattern(pattern) {
		if plainString(pattern) {
			b := make([]byte, 0, len(pattern)+2)
			return append(append(append(b, '"'), pattern...), '"'), nil
		}
		return json.Marshal(pattern)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(pattern)); err != nil {
		return nil, fmt.Errorf("natstransport: object pattern %q is not valid JSON: %w", pattern, err)
	}
	return buf.Bytes(), nil
}

// plainString reports whether s can be quoted as JSON as it is: printable
// ASCII without quotes, backslashes or the characters encoding/json escapes
// for HTML.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= utf8.RuneSelf, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// writeRoute writes v as NestJS's transformPatternToRoute does.
func writeRoute(b *strings.Builder, v any, depth int) {
	switch v := v.(type) {
	case map[string]any:
		writeObjectRoute(b, v, depth)
	case []any:
		m := make(map[string]any, len(v))
		for i, e := range v {
			m[strconv.Itoa(i)] = e
		}
		writeObjectRoute(b, m, depth)
	case string:
		b.WriteString(v)
	case json.Number:
		b.WriteString(jsNumber(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("null")
	}
}

func writeObjectRoute(b *strings.Builder, m map[string]any, depth int) {
	if depth > maxPatternDepth {
		b.WriteString("[MAX_DEPTH_REACHED]")
		return
	}
	if len(m) > maxPatternKeys {
		b.WriteString("[TOO_MANY_KEYS]")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, localeCompare)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(escapeRoute(k))
		b.WriteString(`":`)
		if s, ok := m[k].(string); ok {
			b.WriteByte('"')
			b.WriteString(escapeRoute(s))
			b.WriteByte('"')
			continue
		}
		writeRoute(b, m[k], depth+1)
	}
	b.WriteByte('}')
}

// escapeRoute escapes backslashes and double quotes, and nothing else, as
// NestJS does.
func escapeRoute(s string) string {
	if !strings.ContainsAny(s, `\"`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// jsNumber formats n as JavaScript's Number.prototype.toString does.
func jsNumber(n json.Number) string {
	f, err := strconv.ParseFloat(string(n), 64)
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case err != nil:
		return string(n)
	case f == 0:
		return "0"
	}
	if abs := math.Abs(f); abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// collationOrder lists the printable ASCII characters in the order of
// JavaScript's default localeCompare (ICU root collation), letters case
// folded: whitespace, punctuation, digits, then letters.
const collationOrder = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"

// primaryWeight is each ASCII character's place in collationOrder; control
// characters weigh 0 and sort first.
var primaryWeight = func() (w [utf8.RuneSelf]int) {
	for i := 0; i < len(collationOrder); i++ {
		c := collationOrder[i]
		w[c] = i + 1
		if c >= 'a' && c <= 'z' {
			w[c-'a'+'A'] = i + 1
		}
	}
	return w
}()

// weight returns r's primary weight; runes beyond ASCII follow ASCII in
// code point order.
func weight(r rune) int {
	if r < utf8.RuneSelf {
		return primaryWeight[r]
	}
	return len(collationOrder) + 1 + int(r)
}

// localeCompare orders keys as JavaScript's a.localeCompare(b) does for
// ASCII: first by characters ignoring case, then lowercase before
// uppercase at the first difference, then by bytes.
func localeCompare(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if c := weight(ra[i]) - weight(rb[i]); c != 0 {
			return c
		}
	}
	if c := len(ra) - len(rb); c != 0 {
		return c
	}
	for i := range ra {
		la, lb := ra[i] >= 'a' && ra[i] <= 'z', rb[i] >= 'a' && rb[i] <= 'z'
		if ra[i] != rb[i] && la != lb {
			if la {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}
