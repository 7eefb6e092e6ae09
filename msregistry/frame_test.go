package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
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
