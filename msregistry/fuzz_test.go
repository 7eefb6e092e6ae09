package msregistry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fxforge/fxforge/msregistry"
)

var fuzzSeeds = []string{
	`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}`,
	`{"kind":"message","pattern":"echo","payload":{"a":[1,"x",{"b":null}]},"metadata":{"t":"1"},"id":2}`,
	`{"kind":"event","pattern":"noted","payload":{"count":1},"metadata":{"values":{"a":"b"}},"id":3}`,
	`{"kind":"message","pattern":"\u0065cho","id":"\ud83d\ude00"}`,
	`{"k\u0069nd":"message","pattern":"echo","payload":[1,{"a":"}"}],"metadata":{"x":"y"}}`,
	`{"kind":"event","pattern":"noted","KIND":"message","PATTERN":"echo","ID":"z"}`,
	`{"kind":"message","pattern":"echo","kind":"event"}`,
	`{"kind":"message","pattern":"echo","\u006bind":"event"}`,
	`{"kind":"message","pattern":"echo","metadata":{"a":"1","a":"2"}}`,
	`{"kind":"message","pattern":"echo","payload":{"a":{"b":1,"b":2}}}`,
	`{"kind":"message","pattern":"echo","id":1e400}`,
	`{"kind":"message","pattern":"echo","id":-1e400}`,
	`{"kind":"message","pattern":"echo","id":1e-400}`,
	"{\"kind\":\"message\",\"pattern\":\"echo\",\"id\":\"a\u2028b\u2029c\"}",
	`{"kind":"message","pattern":"echo","id":"\ud800"}`,
	`{"kind":"message","pattern":"echo","payload":"\udc00\ud800"}`,
	`{"kind":"message","pattern":"echo"} {}`,
	`{"kind":"message","pattern":"echo"}x`,
	`[]`, `"x"`, `42`, `null`, `{`, ``, ` `, `{"kind":1}`, `{"kind":"message","pattern":"p","id":{}}`,
	`{"kind":"message","pattern":"echo","metadata":{"values":{"a":1}}}`,
	`{"kind":"message","pattern":"echo","metadata":{"values":{"a":"b"},"x":"y"}}`,
	`{"kind":"message","pattern":"echo","metadata":{"values":{"values":{"a":"b"}}}}`,
	"{\"kind\":\"message\",\"pattern\":\"\xff\"}",
	`{"kind":"message","pattern":"echo","payload":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`,
	`{"kind":"message","pattern":"echo","payload":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
	`{"kind":"message","pattern":"echo","x":` + strings.Repeat(`{"a":`, 999) + `1` + strings.Repeat("}", 999) + `}`,
	`{"kind":"message","pattern":"echo","x":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat("}", 1000) + `}`,
}

// refFrame is a frame as the reference decoder reads it.
type refFrame struct {
	kind     string
	pattern  string
	payload  []byte // raw; nil when absent
	metadata map[string]string
	id       any // string or json.Number; nil when absent or null
}

// refDecode is the reference for the frame rules, written independently of
// the codec: encoding/json's token stream, with exact keys, duplicate keys,
// the nesting limit, UTF-8 and surrogate escapes checked here. It reports
// whether the frame is accepted and, for a frame that is valid JSON, the
// pattern and id an error reply echoes.
func refDecode(data []byte) (f refFrame, accepted bool, echoPattern string, echoID any) {
	r := &refReader{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	if !utf8.Valid(data) {
		return f, false, "", nil
	}
	first := r.token()
	raw := map[string][]byte{}
	if first == json.Delim('{') {
		r.enter()
		seen := map[string]bool{}
		for r.err == nil && r.dec.More() {
			key := r.key(seen)
			v, _ := r.value()
			switch key {
			case "kind", "pattern", "payload", "metadata", "id":
				raw[key] = v
			}
		}
		r.token() // '}'
	} else {
		r.finish(first)
	}
	if _, err := r.dec.Token(); r.err == nil && err != io.EOF {
		r.err = errors.New("more after the value")
	}
	if r.err != nil || first != json.Delim('{') {
		return f, false, "", nil
	}

	var kindOK, patternOK, idOK, mdOK bool
	if err := json.Unmarshal(raw["pattern"], &f.pattern); err == nil && f.pattern != "" && raw["pattern"][0] == '"' {
		patternOK, echoPattern = true, f.pattern
	}
	switch id := raw["id"]; {
	case id == nil || string(id) == "null":
		idOK = true
	case id[0] == '"':
		var s string
		idOK = json.Unmarshal(id, &s) == nil
		f.id = s
	case id[0] == '-' || id[0] >= '0' && id[0] <= '9':
		_, err := strconv.ParseFloat(string(id), 64)
		idOK = err == nil
		f.id = json.Number(id)
	}
	if !idOK {
		f.id = nil
	}
	if k := raw["kind"]; k != nil && k[0] == '"' && json.Unmarshal(k, &f.kind) == nil {
		kindOK = f.kind == "message" || f.kind == "event"
	}
	f.metadata, mdOK = refMetadata(raw["metadata"])
	f.payload = raw["payload"]
	return f, kindOK && patternOK && idOK && mdOK, echoPattern, f.id
}

// refMetadata reads metadata: absent or null, an object of string values,
// or {"values":{...}} with such an object as its only member.
func refMetadata(raw []byte) (map[string]string, bool) {
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	if v, ok := m["values"]; ok && len(m) == 1 && v[0] == '{' {
		m = nil
		if json.Unmarshal(v, &m) != nil {
			return nil, false
		}
	}
	var out map[string]string
	for k, v := range m {
		var s string
		if v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil, false
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = s
	}
	return out, true
}

// refReader walks a JSON text with encoding/json's Decoder.Token and
// records the first rule it breaks in err.
type refReader struct {
	data  []byte
	dec   *json.Decoder
	depth int
	err   error
}

// token reads one token; string tokens must not hold lone surrogate
// escapes, which encoding/json would turn into U+FFFD.
func (r *refReader) token() json.Token {
	if r.err != nil {
		return nil
	}
	before := r.dec.InputOffset()
	t, err := r.dec.Token()
	if err != nil {
		r.err = err
		return nil
	}
	if _, ok := t.(string); ok && badSurrogates(trimValue(r.data[before:r.dec.InputOffset()])) {
		r.err = errors.New("lone surrogate escape")
	}
	return t
}

// key reads an object member name, which must be new in its object.
func (r *refReader) key(seen map[string]bool) string {
	k, _ := r.token().(string)
	if r.err == nil && seen[k] {
		r.err = errors.New("duplicate key")
	}
	seen[k] = true
	return k
}

// value reads a whole value and returns its raw text.
func (r *refReader) value() ([]byte, json.Token) {
	start := r.dec.InputOffset()
	t := r.token()
	r.finish(t)
	if r.err != nil {
		return nil, nil
	}
	return trimValue(r.data[start:r.dec.InputOffset()]), t
}

// finish reads the rest of a value that starts with t.
func (r *refReader) finish(t json.Token) {
	switch t {
	case json.Delim('{'):
		r.enter()
		seen := map[string]bool{}
		for r.err == nil && r.dec.More() {
			r.key(seen)
			r.value()
		}
		r.token()
		r.depth--
	case json.Delim('['):
		r.enter()
		for r.err == nil && r.dec.More() {
			r.value()
		}
		r.token()
		r.depth--
	}
}

// enter counts one more level of nesting; 1000 levels are allowed, the
// frame being level 1.
func (r *refReader) enter() {
	if r.depth++; r.depth > 1000 && r.err == nil {
		r.err = errors.New("nested too deep")
	}
}

// trimValue strips the separators and whitespace before a value's text.
func trimValue(b []byte) []byte { return bytes.TrimLeft(b, " \t\r\n:,") }

// badSurrogates reports whether the JSON string literal s has a \u escape
// of a surrogate that is not part of a high-low pair.
func badSurrogates(s []byte) bool {
	hex := func(i int) rune {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return -1
		}
		n, err := strconv.ParseUint(string(s[i+2:i+6]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		r := hex(i)
		switch {
		case r >= 0xd800 && r < 0xdc00:
			if lo := hex(i + 6); lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 11
		case r >= 0xdc00 && r <= 0xdfff:
			return true
		default:
			i++ // skip the escaped character
		}
	}
	return false
}

// codecRegistry serves the patterns the codec tests and benchmarks send:
// echo (returns its payload), size (returns the payload's length) and the
// event noted.
func codecRegistry(t testing.TB) *msregistry.Registry {
	t.Helper()
	reg := msregistry.New()
	for _, err := range []error{
		msregistry.Message(reg, "echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }),
		msregistry.Message(reg, "size", func(_ context.Context, in json.RawMessage) (int, error) { return len(in), nil }),
		msregistry.Event(reg, "noted", func(context.Context, json.RawMessage) error { return nil }),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// FuzzFrameCodec checks the codec against the reference decoder: the same
// frames accepted, with the same kind, pattern, payload, metadata and id,
// and every reply valid UTF-8 JSON that encoding/json reads back to the
// request's id, pattern and payload. Error replies stay small.
func FuzzFrameCodec(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range frameShapes(4 << 10) {
		f.Add(s.frame)
	}
	reg := codecRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, accepted, echoPattern, echoID := refDecode(data)
		checkDecode(t, data, want, accepted)
		checkReply(t, reg, data, want, accepted, echoPattern, echoID)
	})
}

func checkDecode(t *testing.T, data []byte, want refFrame, accepted bool) {
	t.Helper()
	fr, err := msregistry.DecodeFrame(data)
	if err != nil {
		var e *msregistry.Error
		if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidFrame || e.Message == "" {
			t.Fatalf("DecodeFrame error %v is not an invalid_frame *Error", err)
		}
		if accepted {
			t.Fatalf("DecodeFrame refused what the reference accepts (%+v): %v", want, err)
		}
		return
	}
	if !accepted {
		t.Fatalf("DecodeFrame accepted what the reference refuses: %+v", fr)
	}
	if fr.Kind.String() != want.kind || fr.Pattern != want.pattern {
		t.Fatalf("kind, pattern = %v, %q; reference reads %s, %q", fr.Kind, fr.Pattern, want.kind, want.pattern)
	}
	if !bytes.Equal(fr.Payload, want.payload) {
		t.Fatalf("payload = %s; reference reads %s", fr.Payload, want.payload)
	}
	if len(fr.Metadata) != len(want.metadata) || (len(want.metadata) > 0 && !reflect.DeepEqual(map[string]string(fr.Metadata), want.metadata)) {
		t.Fatalf("metadata = %v; reference reads %v", fr.Metadata, want.metadata)
	}
	if got := readID(t, fr.ID); got != want.id {
		t.Fatalf("id = %s (%#v); reference reads %#v", fr.ID, got, want.id)
	}
}

// checkReply handles data and checks the reply against the reference.
func checkReply(t *testing.T, reg *msregistry.Registry, data []byte, want refFrame, accepted bool, echoPattern string, echoID any) {
	t.Helper()
	out, ok := reg.HandleFrame(context.Background(), "fuzz", data, nil)
	if !ok {
		if len(out) != 0 || !accepted || want.kind != "event" || want.pattern != "noted" {
			t.Fatalf("no reply (%q) to a frame that is not a dispatched event: %+v", out, want)
		}
		return
	}
	if !utf8.Valid(out) || bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
		t.Fatalf("reply is not valid UTF-8 free of raw U+2028/U+2029: %q", out)
	}
	var r struct {
		Kind    string
		Pattern *string
		ID      json.RawMessage
		Payload json.RawMessage
		Error   *struct{ Code, Message string }
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("reply %s: %v", out, err)
	}
	if got := readID(t, r.ID); got != echoID {
		t.Fatalf("reply id = %s; reference reads %#v", r.ID, echoID)
	}
	switch r.Kind {
	case "response":
		if !accepted || want.kind != "message" || r.Pattern == nil || *r.Pattern != want.pattern {
			t.Fatalf("response %s to %+v", out, want)
		}
		if want.pattern == "echo" && !sameJSON(r.Payload, want.payload) {
			t.Fatalf("echoed payload = %s; reference reads %s", r.Payload, want.payload)
		}
	case "error":
		if r.Error == nil || r.Error.Code == "" {
			t.Fatalf("error frame without code: %s", out)
		}
		wantPattern := echoPattern
		if len(wantPattern) > 256 {
			wantPattern = ""
		}
		if got := ""; r.Pattern != nil && *r.Pattern != wantPattern || r.Pattern == nil && wantPattern != "" {
			if r.Pattern != nil {
				got = *r.Pattern
			}
			t.Fatalf("error frame pattern = %q; want %q", got, wantPattern)
		}
		if len(r.Error.Message) > 400 || len(out) > len(r.ID)+800 {
			t.Fatalf("error reply of %d bytes (message %d bytes) to a frame of %d bytes: %.300s", len(out), len(r.Error.Message), len(data), out)
		}
	default:
		t.Fatalf("reply kind %q: %s", r.Kind, out)
	}
}

// readID decodes a raw id into what the reference compares: a string, a
// json.Number or nil.
func readID(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var id any
	if err := dec.Decode(&id); err != nil {
		t.Fatalf("id %s: %v", raw, err)
	}
	return id
}

// sameJSON reports whether a and b (nil meaning null) hold the same JSON
// value.
func sameJSON(a, b []byte) bool {
	read := func(b []byte) (v any) {
		if b == nil {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return errors.New("invalid")
		}
		return v
	}
	return reflect.DeepEqual(read(a), read(b))
}

// frameShape is a frame built to make a decoder work hard.
type frameShape struct {
	name  string
	frame []byte
	code  string // the error code of its reply; "" for a response
}

// frameShapes returns frames of about size bytes, each of one shape that
// once cost a decoder more than its size: escapes, nesting, many keys, long
// values; plain frames of the same size to compare with first.
func frameShapes(size int) []frameShape {
	frame := func(members string) []byte {
		return []byte(`{"kind":"message","pattern":"size","id":"c-1",` + members + `}`)
	}
	fill := func(unit func(i int) string, sep string, room int) string {
		var b strings.Builder
		for i := 0; b.Len() < room; i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(unit(i))
		}
		return b.String()
	}
	escape := func(s string) string { // every byte as \u00XX
		var b strings.Builder
		for _, c := range []byte(s) {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
		return b.String()
	}
	room := size - 80
	const deep = 990 // levels, within the 1000 allowed
	return []frameShape{
		{name: "plain", frame: frame(`"payload":[` + fill(func(i int) string { return fmt.Sprintf(`{"id":%d,"name":"user-%d","tags":["a","b"]}`, i, i) }, ",", room) + `]`)},
		{name: "plain_string", frame: frame(`"payload":"` + strings.Repeat("x", room) + `"`)},
		{name: "escaped_keys", frame: []byte(`{"` + escape("kind") + `":"message","` + escape("pattern") + `":"size",` +
			fill(func(i int) string { return `"` + escape(fmt.Sprintf("k%d", i)) + `":1` }, ",", room) + `}`)},
		{name: "escaped_metadata", frame: frame(`"metadata":{` + fill(func(i int) string { return `"` + escape(fmt.Sprintf("k%d", i)) + `":"` + escape("v") + `"` }, ",", room) + `}`)},
		{name: "escaped_string", frame: frame(`"payload":"` + fill(func(int) string { return `\u00e9\n\"\\\ud83d\ude00` }, "", room) + `"`)},
		{name: "escaped_id", frame: []byte(`{"kind":"message","pattern":"size","id":"` + fill(func(int) string { return `\u0061\"` }, "", room) + `"}`)},
		{name: "line_separators_id", frame: []byte(`{"kind":"message","pattern":"size","id":"` + strings.Repeat("\u2028\u2029", room/6) + `"}`)},
		{name: "deep_arrays", frame: frame(`"payload":[` + fill(func(int) string { return strings.Repeat("[", deep) + strings.Repeat("]", deep) }, ",", room) + `]`)},
		{name: "deep_objects", frame: frame(`"payload":[` + fill(func(int) string { return strings.Repeat(`{"a":`, deep) + "1" + strings.Repeat("}", deep) }, ",", room) + `]`)},
		{name: "too_deep", code: msregistry.CodeInvalidFrame, frame: frame(`"payload":` + strings.Repeat("[", room))},
		{name: "too_deep_in_an_array", code: msregistry.CodeInvalidFrame, frame: []byte(`[` + strings.Repeat(`{"a":`, room/6) + `1` + strings.Repeat(`}`, room/6) + `]`)},
		{name: "many_keys", frame: frame(`"payload":{` + fill(func(i int) string { return fmt.Sprintf(`"k%d":1`, i) }, ",", room) + `}`)},
		{name: "many_top_level_keys", frame: frame(fill(func(i int) string { return fmt.Sprintf(`"k%d":1`, i) }, ",", room))},
		{name: "many_numbers", frame: frame(`"payload":[` + fill(func(i int) string { return fmt.Sprintf("%d.5e-3", i) }, ",", room) + `]`)},
		{name: "duplicate_key_last", code: msregistry.CodeInvalidFrame, frame: frame(`"payload":{` + fill(func(i int) string { return `"` + escape(fmt.Sprintf("k%d", i)) + `":1` }, ",", room) + `,"k0":2}`)},
		{name: "invalid_utf8_pattern", code: msregistry.CodeInvalidFrame, frame: []byte(`{"kind":"message","pattern":"` + strings.Repeat("\xff", room) + `"}`)},
		{name: "unknown_pattern", code: msregistry.CodeNotFound, frame: []byte(`{"kind":"message","id":7,"pattern":"` + strings.Repeat("p", room) + `"}`)},
		{name: "unknown_kind", code: msregistry.CodeInvalidFrame, frame: []byte(`{"pattern":"size","kind":"` + strings.Repeat("\\u00e9", room/6) + `"}`)},
		{name: "bad_metadata_key", code: msregistry.CodeInvalidFrame, frame: frame(`"metadata":{"` + strings.Repeat("m", room) + `":1}`)},
		{name: "huge_number_id", code: msregistry.CodeInvalidFrame, frame: []byte(`{"kind":"message","pattern":"size","id":1` + strings.Repeat("0", room) + `}`)},
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the generated frame shapes in testdata/fuzz/FuzzFrameCodec")

// TestFuzzCorpusHoldsEveryShape checks that the checked-in corpus has each
// hostile frame shape, so `go test` runs them through the fuzz checks and
// `go test -fuzz` starts from them. Run with -update-corpus to rewrite them.
func TestFuzzCorpusHoldsEveryShape(t *testing.T) {
	for _, s := range frameShapes(4 << 10) {
		path := filepath.Join("testdata", "fuzz", "FuzzFrameCodec", "shape_"+s.name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.frame)
		if *updateCorpus {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzCorpusHoldsEveryShape -update-corpus", path, err)
		}
	}
}
