package msregistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/fxforge/fxforge/msregistry"
)

var fuzzSeeds = []string{
	`{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}`,
	`{"kind":"event","pattern":"noted","payload":{"count":1},"metadata":{"values":{"a":"b"}},"id":3}`,
	`{"kind":"message","pattern":"count.double","payload":{"count":"x"}}`,
	`{"kind":"message","pattern":"\u0061pp.info","id":"\ud83d\ude00"}`,
	`{"k\u0069nd":"message","pattern":"echo.any","payload":[1,{"a":"}"}],"metadata":{"x":"y"}}`,
	`[]`, `"x"`, `42`, `null`, `{`, `{"kind":1}`, `{"kind":"message","pattern":"p","id":{}}`,
	`{"kind":"message","pattern":"info","metadata":{"values":{"a":1}}}`,
	"{\"kind\":\"message\",\"pattern\":\"\xff\"}",
}

// FuzzDecodeFrame checks that DecodeFrame never panics, that it fails only
// with CodeInvalidFrame, and that what it accepts agrees with encoding/json.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := msregistry.DecodeFrame(data)
		if err != nil {
			var e *msregistry.Error
			if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidFrame || e.Message == "" {
				t.Fatalf("DecodeFrame error %v is not an invalid_frame *Error", err)
			}
			return
		}
		if fr.Kind != msregistry.KindMessage && fr.Kind != msregistry.KindEvent {
			t.Fatalf("kind = %v", fr.Kind)
		}
		if fr.Pattern == "" {
			t.Fatal("empty pattern accepted")
		}
		if fr.Payload != nil && !json.Valid(fr.Payload) {
			t.Fatalf("payload %q is not valid JSON", fr.Payload)
		}
		if fr.ID != nil {
			var id any
			if err := json.Unmarshal(fr.ID, &id); err != nil {
				t.Fatalf("id %q: %v", fr.ID, err)
			}
			switch id.(type) {
			case string, float64:
			default:
				t.Fatalf("id %q is a %T", fr.ID, id)
			}
		}
		// encoding/json, with exact keys, must read the same frame.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("DecodeFrame accepted what encoding/json rejects: %v", err)
		}
		var kind, pattern string
		if err := json.Unmarshal(m["kind"], &kind); err != nil || kind != fr.Kind.String() {
			t.Fatalf("kind = %v, encoding/json reads %s (%v)", fr.Kind, m["kind"], err)
		}
		if err := json.Unmarshal(m["pattern"], &pattern); err != nil || pattern != fr.Pattern {
			t.Fatalf("pattern = %q, encoding/json reads %q (%v)", fr.Pattern, pattern, err)
		}
		if string(m["payload"]) != string(fr.Payload) {
			t.Fatalf("payload = %s, encoding/json reads %s", fr.Payload, m["payload"])
		}
		if id := m["id"]; string(id) != "null" && utf8.Valid(id) && string(id) != string(fr.ID) {
			t.Fatalf("id = %s, encoding/json reads %s", fr.ID, id)
		}
	})
}

// FuzzHandleFrame checks that every frame gets either no reply (a
// dispatched event) or a reply that is valid JSON of kind response or error.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	reg, _ := newTestRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ok := reg.HandleFrame(context.Background(), "fuzz", data, nil)
		if !ok {
			if len(out) != 0 {
				t.Fatalf("ok = false with reply %q", out)
			}
			return
		}
		var r struct {
			Kind  string
			Error *struct{ Code, Message string }
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("reply is not valid UTF-8 JSON: %q", out)
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		switch r.Kind {
		case "response":
		case "error":
			if r.Error == nil || r.Error.Code == "" {
				t.Fatalf("error frame without code: %s", out)
			}
		default:
			t.Fatalf("reply kind %q: %s", r.Kind, out)
		}
	})
}
