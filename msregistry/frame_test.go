package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

// reply is a decoded reply frame.
type reply struct {
	Kind     string                          `json:"kind"`
	Pattern  *string                         `json:"pattern"`
	ID       json.RawMessage                 `json:"id"`
	Payload  json.RawMessage                 `json:"payload"`
	Metadata map[string]string               `json:"metadata"`
	Error    *struct{ Code, Message string } `json:"error"`
}

func handle(t *testing.T, reg *msregistry.Registry, frame string) (reply, bool) {
	t.Helper()
	prefix := []byte("keep:")
	out, ok := reg.HandleFrame(identity.WithRequestID(context.Background(), "req-f"), "websocket", []byte(frame), prefix)
	if !strings.HasPrefix(string(out), "keep:") {
		t.Fatalf("HandleFrame dropped the start of dst: %q", out)
	}
	out = out[len(prefix):]
	if !ok {
		if len(out) != 0 {
			t.Fatalf("ok = false but reply %q", out)
		}
		return reply{}, false
	}
	if !json.Valid(out) {
		t.Fatalf("reply is not valid JSON: %s", out)
	}
	var r reply
	dec := json.NewDecoder(strings.NewReader(string(out)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode reply %s: %v", out, err)
	}
	return r, true
}

func TestBadFramesGetErrorFrames(t *testing.T) {
	tests := []struct {
		name      string
		frame     string
		code      string
		id        string // echoed id, "" for none
		pattern   string // echoed pattern, "" for none
		inMessage string
	}{
		{"malformed JSON", `{"kind":"message",`, msregistry.CodeInvalidFrame, "", "", "not valid JSON"},
		{"not JSON at all", `hello`, msregistry.CodeInvalidFrame, "", "", "not valid JSON"},
		{"empty frame", ``, msregistry.CodeInvalidFrame, "", "", "not valid JSON"},
		{"array frame", `[]`, msregistry.CodeInvalidFrame, "", "", "must be a JSON object, got an array"},
		{"string frame", `"x"`, msregistry.CodeInvalidFrame, "", "", "got a string"},
		{"number frame", `42`, msregistry.CodeInvalidFrame, "", "", "got a number"},
		{"null frame", `null`, msregistry.CodeInvalidFrame, "", "", "got null"},
		{"missing kind", `{"pattern":"app.info","id":"c-1"}`, msregistry.CodeInvalidFrame, `"c-1"`, "app.info", `missing "kind"`},
		{"null kind", `{"kind":null,"pattern":"app.info","id":1}`, msregistry.CodeInvalidFrame, `1`, "app.info", `missing "kind"`},
		{"kind not a string", `{"kind":7,"pattern":"app.info","id":2}`, msregistry.CodeInvalidFrame, `2`, "app.info", `"kind" must be a string`},
		{"unknown kind", `{"kind":"request","pattern":"app.info","id":"c-2"}`, msregistry.CodeInvalidFrame, `"c-2"`, "app.info", `unknown kind "request"`},
		{"missing pattern", `{"kind":"message","id":"c-3"}`, msregistry.CodeInvalidFrame, `"c-3"`, "", `missing "pattern"`},
		{"empty pattern", `{"kind":"message","pattern":"","id":"c-4"}`, msregistry.CodeInvalidFrame, `"c-4"`, "", `"pattern" must not be empty`},
		{"pattern not a string", `{"kind":"message","pattern":{"cmd":"x"},"id":"c-5"}`, msregistry.CodeInvalidFrame, `"c-5"`, "", `"pattern" must be a string, got an object`},
		{"metadata not an object", `{"kind":"message","pattern":"app.info","metadata":[],"id":"c-6"}`, msregistry.CodeInvalidFrame, `"c-6"`, "app.info", "metadata must be an object"},
		{"metadata value not a string", `{"kind":"message","pattern":"app.info","metadata":{"a":1},"id":"c-7"}`, msregistry.CodeInvalidFrame, `"c-7"`, "app.info", `metadata value for key "a" must be a string`},
		{"values form with a non-string", `{"kind":"message","pattern":"app.info","metadata":{"values":{"a":true}},"id":"c-8"}`, msregistry.CodeInvalidFrame, `"c-8"`, "app.info", `key "a"`},
		{"values form nested twice", `{"kind":"message","pattern":"app.info","metadata":{"values":{"values":{"a":"b"}}},"id":"c-9"}`, msregistry.CodeInvalidFrame, `"c-9"`, "app.info", `key "values" must be a string`},
		{"id not a string or number", `{"kind":"message","pattern":"app.info","id":{"x":1}}`, msregistry.CodeInvalidFrame, "", "app.info", "id must be a string or a number"},
		{"unknown message pattern", `{"kind":"message","pattern":"nope","id":"c-9"}`, msregistry.CodeNotFound, `"c-9"`, "nope", `no message handler for pattern "nope"`},
		{"unknown event pattern", `{"kind":"event","pattern":"nope","id":"c-10"}`, msregistry.CodeNotFound, `"c-10"`, "nope", `no event handler for pattern "nope"`},
		{"payload does not decode", `{"kind":"message","pattern":"count.double","payload":{"count":"x"},"id":11}`, msregistry.CodeInvalidPayload, `11`, "count.double", `payload field "count"`},
		{"event payload does not decode", `{"kind":"event","pattern":"noted","payload":{"count":true},"id":12}`, msregistry.CodeInvalidPayload, `12`, "noted", `payload field "count"`},
		{"handler returns *Error", `{"kind":"message","pattern":"fail.rpc","id":"c-13"}`, "quota_exceeded", `"c-13"`, "fail.rpc", "too many widgets"},
		{"handler returns plain error", `{"kind":"message","pattern":"fail.plain","id":"c-14"}`, msregistry.CodeInternal, `"c-14"`, "fail.plain", "internal error"},
		{"handler panics", `{"kind":"message","pattern":"panic","id":"c-15"}`, msregistry.CodeInternal, `"c-15"`, "panic", "internal error"},
	}
	reg, _ := newTestRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := handle(t, reg, tt.frame)
			if !ok {
				t.Fatal("no reply")
			}
			if r.Kind != "error" || r.Error == nil {
				t.Fatalf("reply kind %q error %v, want an error frame", r.Kind, r.Error)
			}
			if r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.inMessage) {
				t.Errorf("error = %q %q, want code %q and message containing %q", r.Error.Code, r.Error.Message, tt.code, tt.inMessage)
			}
			if string(r.ID) != tt.id {
				t.Errorf("id = %s, want %s", r.ID, tt.id)
			}
			gotPattern := ""
			if r.Pattern != nil {
				gotPattern = *r.Pattern
			}
			if gotPattern != tt.pattern {
				t.Errorf("pattern = %q, want %q", gotPattern, tt.pattern)
			}
			if strings.Contains(r.Error.Message, "10.0.0.7") || strings.Contains(r.Error.Message, "secret") {
				t.Errorf("internal details leaked: %q", r.Error.Message)
			}

			// The connection stays usable: the next good frame works.
			r, ok = handle(t, reg, `{"kind":"message","pattern":"count.double","payload":{"count":4},"metadata":{},"id":"next"}`)
			if !ok || r.Kind != "response" || string(r.Payload) != `{"double":8,"name":""}` || string(r.ID) != `"next"` {
				t.Errorf("good frame after a bad one: %+v", r)
			}
		})
	}
}

func TestResponseFrameShape(t *testing.T) {
	reg, _ := newTestRegistry(t)
	out, ok := reg.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}`), nil)
	want := `{"kind":"response","pattern":"app.info","id":"c-17","payload":{"name":"fxforge"},"metadata":{}}`
	if !ok || string(out) != want {
		t.Errorf("HandleFrame = %s, %v; want %s", out, ok, want)
	}
	out, _ = reg.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"message","pattern":"nope"}`), nil)
	if want := `{"kind":"error","pattern":"nope","error":{"code":"not_found","message":"no message handler for pattern \"nope\""}}`; string(out) != want {
		t.Errorf("HandleFrame = %s, want %s", out, want)
	}
}

func TestIDIsEchoedVerbatim(t *testing.T) {
	reg, _ := newTestRegistry(t)
	for _, id := range []string{`"c-17"`, `17`, `-3.5e2`, `"with \"quotes\" and \u00e9"`, `12345678901234567890123`} {
		r, ok := handle(t, reg, `{"id":`+id+`,"kind":"message","pattern":"app.info"}`)
		if !ok || r.Kind != "response" || string(r.ID) != id {
			t.Errorf("id %s: reply %+v", id, r)
		}
	}
	r, _ := handle(t, reg, `{"kind":"message","pattern":"app.info"}`)
	if r.ID != nil {
		t.Errorf("frame without id: reply id = %s, want none", r.ID)
	}
	r, _ = handle(t, reg, `{"kind":"message","pattern":"app.info","id":null}`)
	if r.ID != nil {
		t.Errorf("frame with null id: reply id = %s, want none", r.ID)
	}
}

func TestMetadataReachesHandler(t *testing.T) {
	tests := []struct {
		name, metadata string
		want           map[string]string
	}{
		{"absent", ``, nil},
		{"null", `,"metadata":null`, nil},
		{"empty object", `,"metadata":{}`, nil},
		{"flat", `,"metadata":{"a":"b","c":"d"}`, map[string]string{"a": "b", "c": "d"}},
		{"values form", `,"metadata":{"values":{"a":"b"}}`, map[string]string{"a": "b"}},
		{"empty values form", `,"metadata":{"values":{}}`, nil},
		{"values as a plain key", `,"metadata":{"values":"v"}`, map[string]string{"values": "v"}},
		{"values form unwraps once", `,"metadata":{"values":{"values":"v"}}`, map[string]string{"values": "v"}},
		{"values beside other keys", `,"metadata":{"values":"v","x":"y"}`, map[string]string{"values": "v", "x": "y"}},
		{"escapes", `,"metadata":{"k\u00e9y":"line\nbreak","\u0061":"\"q\""}`, map[string]string{"kéy": "line\nbreak", "a": `"q"`}},
		{"whitespace", `,"metadata" : { "a" : "b" , "c":"d" }`, map[string]string{"a": "b", "c": "d"}},
	}
	reg, _ := newTestRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := handle(t, reg, `{"kind":"message","pattern":"info"`+tt.metadata+`}`)
			if !ok || r.Kind != "response" {
				t.Fatalf("reply %+v", r)
			}
			var got callInfo
			if err := json.Unmarshal(r.Payload, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Metadata) != len(tt.want) {
				t.Fatalf("metadata = %v, want %v", got.Metadata, tt.want)
			}
			for k, v := range tt.want {
				if got.Metadata[k] != v {
					t.Errorf("metadata[%q] = %q, want %q", k, got.Metadata[k], v)
				}
			}
			if got.Transport != "websocket" || got.Pattern != "info" || got.RequestID != "req-f" || got.Greeting != "hello" {
				t.Errorf("handler context = %+v", got)
			}
		})
	}
}

func TestEventFrameGetsNoReply(t *testing.T) {
	reg := msregistry.New()
	var got []int
	for range 2 {
		if err := msregistry.Event(reg, "tick", func(_ context.Context, in struct{ N int }) error {
			got = append(got, in.N)
			return errors.New("logged, not sent")
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, ok := reg.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"event","pattern":"tick","payload":{"N":5},"id":"e-1"}`), nil)
	if ok || len(out) != 0 {
		t.Errorf("event got reply %s (ok %v)", out, ok)
	}
	if len(got) != 2 || got[0] != 5 || got[1] != 5 {
		t.Errorf("handlers saw %v, want both to run with 5", got)
	}
}

func TestDecodeFrame(t *testing.T) {
	f, err := msregistry.DecodeFrame([]byte(` {"kind":"event", "pattern":"a.b","payload":{"x":[1,{"y":"}"}]},"metadata":{"values":{"k":"v"}},"id":"z","extra":[{}]} `))
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != msregistry.KindEvent || f.Pattern != "a.b" || string(f.Payload) != `{"x":[1,{"y":"}"}]}` || f.Metadata["k"] != "v" || string(f.ID) != `"z"` {
		t.Errorf("DecodeFrame = %+v", f)
	}
	_, err = msregistry.DecodeFrame([]byte(`{"kind":"message"}`))
	var e *msregistry.Error
	if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidFrame {
		t.Errorf("DecodeFrame without pattern = %v, want CodeInvalidFrame", err)
	}
}

func TestAppendErrorEscapesStrings(t *testing.T) {
	weird := "quote\" backslash\\ nl\n ctl\x01\x1f del\x7f bad\xff ls\u2028 ps\u2029 é 😀 <&>"
	out := msregistry.AppendError(nil, weird, json.RawMessage(`"id"`), msregistry.NewError("c", weird))
	if !json.Valid(out) {
		t.Fatalf("AppendError produced invalid JSON: %q", out)
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(weird, "\xff", "\ufffd")
	if *r.Pattern != want || r.Error.Message != want {
		t.Errorf("round trip = %q, want %q", r.Error.Message, want)
	}
	if strings.Contains(string(out), "\u2028") {
		t.Error("U+2028 not escaped")
	}
}

func TestAppendResponse(t *testing.T) {
	out := msregistry.AppendResponse([]byte("x"), "p", nil, nil)
	if want := `x{"kind":"response","pattern":"p","payload":null,"metadata":{}}`; string(out) != want {
		t.Errorf("AppendResponse = %s, want %s", out, want)
	}
}

// errorReply is what the frame rule tests read from a reply.
type ruleReply struct {
	code    string // "" for a response, "none" for no reply
	pattern string
	id      string
	message string
}

func handleRule(t *testing.T, reg *msregistry.Registry, frame string) ruleReply {
	t.Helper()
	r, ok := handle(t, reg, frame)
	if !ok {
		return ruleReply{code: "none"}
	}
	got := ruleReply{id: string(r.ID)}
	if r.Pattern != nil {
		got.pattern = *r.Pattern
	}
	if r.Error != nil {
		got.code, got.message = r.Error.Code, r.Error.Message
	}
	return got
}

func TestFrameRules(t *testing.T) {
	deep := func(n int) string {
		return `{"kind":"message","pattern":"echo","payload":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	tests := []struct {
		name, frame string
		want        ruleReply
		inMessage   string
	}{
		// Keys match exactly; other keys, case variants too, are ignored.
		{"case variants of keys are ignored", `{"kind":"event","pattern":"noted","KIND":"message","PATTERN":"echo","ID":"z"}`,
			ruleReply{code: "none"}, ""},
		{"only case variants is a missing kind", `{"KIND":"message","PATTERN":"echo","ID":"z"}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `missing "kind"`},
		{"escaped keys match", `{"\u006bind":"message","p\u0061ttern":"echo","\u0069d":"e"}`,
			ruleReply{pattern: "echo", id: `"e"`}, ""},

		// A duplicate key anywhere refuses the frame, and nothing is echoed.
		{"duplicate key at the top level", `{"kind":"message","pattern":"echo","id":"a","kind":"event"}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "kind" twice at the top level`},
		{"duplicate key spelled with an escape", `{"kind":"message","pattern":"echo","id":"a","\u006bind":"event"}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "kind" twice`},
		{"duplicate id", `{"kind":"message","pattern":"echo","id":"a","id":"b"}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "id" twice`},
		{"duplicate key in metadata", `{"kind":"message","pattern":"echo","id":"a","metadata":{"t":"1","t":"2"}}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "t" twice in "/metadata"`},
		{"duplicate key in the values form", `{"kind":"message","pattern":"echo","id":"a","metadata":{"values":{"t":"1","t":"2"}}}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "t" twice in "/metadata/values"`},
		{"duplicate key in the payload", `{"kind":"message","pattern":"echo","id":"a","payload":{"x":1,"x":2}}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "x" twice in "/payload"`},
		{"duplicate key deep in the payload", `{"kind":"message","pattern":"echo","id":"a","payload":[{"a":{"b":1,"b":2}}]}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "b" twice in "/payload/0/a"`},
		{"duplicate key in an ignored member", `{"kind":"message","pattern":"echo","id":"a","extra":{"y":1,"y":2}}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, `key "y" twice in "/extra"`},
		{"same key in different objects", `{"kind":"message","pattern":"echo","id":"a","payload":{"id":1,"kind":{"id":2}}}`,
			ruleReply{pattern: "echo", id: `"a"`}, ""},

		// id: a string, or a number a float64 holds.
		{"id beyond float64", `{"kind":"message","pattern":"echo","id":1e400}`,
			ruleReply{code: msregistry.CodeInvalidFrame, pattern: "echo"}, `id "1e400" does not fit a 64-bit float`},
		{"negative id beyond float64", `{"kind":"message","pattern":"echo","id":-1e400}`,
			ruleReply{code: msregistry.CodeInvalidFrame, pattern: "echo"}, `id "-1e400" does not fit`},
		{"largest ids", `{"kind":"message","pattern":"echo","id":1.7976931348623157e308}`,
			ruleReply{pattern: "echo", id: `1.7976931348623157e308`}, ""},
		{"tiny id rounds to 0 and is echoed as sent", `{"kind":"message","pattern":"echo","id":1e-400}`,
			ruleReply{pattern: "echo", id: `1e-400`}, ""},
		{"id true", `{"kind":"message","pattern":"echo","id":true}`,
			ruleReply{code: msregistry.CodeInvalidFrame, pattern: "echo"}, "id must be a string or a number, got a boolean"},

		// The frame is one JSON object, UTF-8 encoded.
		{"invalid UTF-8 in the payload", "{\"kind\":\"message\",\"pattern\":\"echo\",\"id\":\"a\",\"payload\":\"\xc3(\"}",
			ruleReply{code: msregistry.CodeInvalidFrame}, "invalid UTF-8"},
		{"lone surrogate escape", `{"kind":"message","pattern":"echo","id":"\ud800"}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, "surrogate"},
		{"a second value after the object", `{"kind":"message","pattern":"echo","id":"a"} {}`,
			ruleReply{code: msregistry.CodeInvalidFrame}, "more data after its JSON value"},
		{"1000 levels of nesting", deep(999), ruleReply{pattern: "echo"}, ""},
		{"1001 levels of nesting", deep(1000), ruleReply{code: msregistry.CodeInvalidFrame}, "deeper than 1000 levels"},
	}
	reg := codecRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := handleRule(t, reg, tt.frame)
			msg := got.message
			got.message = ""
			if got != tt.want || !strings.Contains(msg, tt.inMessage) {
				t.Errorf("reply %+v %q, want %+v with a message containing %q", got, msg, tt.want, tt.inMessage)
			}
		})
	}
}

func TestCaseVariantKeysDoNotChangeTheCall(t *testing.T) {
	reg := msregistry.New()
	pings, infos := 0, 0
	if err := msregistry.Event(reg, "app.ping", func(context.Context, struct{}) error { pings++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := msregistry.Message(reg, "app.info", func(context.Context, struct{}) (int, error) { infos++; return 1, nil }); err != nil {
		t.Fatal(err)
	}
	// encoding/json would decode this into a tagged struct as message
	// app.info; the frame rules read the exact keys only.
	out, ok := reg.HandleFrame(context.Background(), "websocket",
		[]byte(`{"kind":"event","pattern":"app.ping","KIND":"message","PATTERN":"app.info","ID":"z"}`), nil)
	if ok || len(out) != 0 || pings != 1 || infos != 0 {
		t.Errorf("reply %q (%v), app.ping ran %d times, app.info %d times; want the event only", out, ok, pings, infos)
	}
}

func TestLineSeparatorsInIDAreEscaped(t *testing.T) {
	reg := codecRegistry(t)
	id := "a\u2028b\u2029c"
	out, ok := reg.HandleFrame(context.Background(), "websocket", []byte(`{"kind":"message","pattern":"echo","id":"`+id+`"}`), nil)
	if !ok || strings.ContainsAny(string(out), "\u2028\u2029") || !strings.Contains(string(out), `"id":"a\u2028b\u2029c"`) {
		t.Fatalf("reply %s: want the id with U+2028 and U+2029 escaped", out)
	}
	var r struct{ ID string }
	if err := json.Unmarshal(out, &r); err != nil || r.ID != id {
		t.Errorf("reply id reads back as %q (%v), want %q", r.ID, err, id)
	}
	f, err := msregistry.DecodeFrame([]byte(`{"kind":"message","pattern":"echo","id":"` + id + `"}`))
	if err != nil || string(f.ID) != `"a\u2028b\u2029c"` {
		t.Errorf("DecodeFrame id = %s (%v)", f.ID, err)
	}
}

// TestHostileFramesGetSmallReplies sends every hostile frame shape at the
// 32 KiB read limit: each gets its reply, and an error reply quotes at most
// a short prefix of what was wrong.
func TestHostileFramesGetSmallReplies(t *testing.T) {
	reg := codecRegistry(t)
	for _, s := range frameShapes(32 << 10) {
		t.Run(s.name, func(t *testing.T) {
			out, ok := reg.HandleFrame(context.Background(), "websocket", s.frame, nil)
			var r reply
			if !ok || json.Unmarshal(out, &r) != nil {
				t.Fatalf("reply %.200q (%v)", out, ok)
			}
			if s.code == "" {
				if r.Kind != "response" {
					t.Fatalf("reply %.300s, want a response", out)
				}
				return
			}
			if r.Error == nil || r.Error.Code != s.code {
				t.Fatalf("reply %.300s, want error %s", out, s.code)
			}
			if len(out) > 400 || strings.Count(r.Error.Message, "…") > 1 {
				t.Errorf("error reply of %d bytes to a %d-byte frame: %s", len(out), len(s.frame), out)
			}
		})
	}
}

func TestErrorMessagesQuoteAShortPrefix(t *testing.T) {
	reg := codecRegistry(t)
	long := strings.Repeat("p", 32<<10)
	r := handleRule(t, reg, `{"kind":"message","pattern":"`+long+`","id":1}`)
	want := fmt.Sprintf(`no message handler for pattern "%s"… (%d bytes)`, long[:64], len(long))
	if r.code != msregistry.CodeNotFound || r.message != want || r.pattern != "" || r.id != "1" {
		t.Errorf("reply %+v, want not_found %q without the pattern", r, want)
	}
	escaped := strings.Repeat("\x01", 100)
	r = handleRule(t, reg, `{"kind":"`+strings.ReplaceAll(escaped, "\x01", `\u0001`)+`","pattern":"echo"}`)
	if r.code != msregistry.CodeInvalidFrame || len(r.message) > 200 || !strings.Contains(r.message, `"\x01\x01`) || !strings.Contains(r.message, "(100 bytes)") {
		t.Errorf("reply %+v, want a message quoting a short prefix of the kind", r)
	}
}

func TestErrorFrameLeavesOutLongPatterns(t *testing.T) {
	e := msregistry.NewError("c", "m")
	for _, tt := range []struct {
		pattern string
		want    bool
	}{{"p", true}, {strings.Repeat("p", 256), true}, {strings.Repeat("p", 257), false}} {
		var r reply
		if err := json.Unmarshal(msregistry.AppendError(nil, tt.pattern, nil, e), &r); err != nil {
			t.Fatal(err)
		}
		if got := r.Pattern != nil; got != tt.want {
			t.Errorf("pattern of %d bytes echoed = %v, want %v", len(tt.pattern), got, tt.want)
		}
	}
}
