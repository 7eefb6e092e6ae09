package natstransport

import (
	"bytes"
	"encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/fxforge/fxforge/msregistry"
)

// referenceIncoming decodes a request or event packet the plain way, into a
// struct with the json/v2 API: decodeIncoming must agree with it.
func referenceIncoming(body []byte) (incoming, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return incoming{}, true
	}
	if trimmed[0] != '{' {
		return incoming{Data: trimmed}, jsontext.Value(trimmed).IsValid()
	}
	var in incoming
	if err := jsonv2.Unmarshal(trimmed, &in); err != nil {
		return incoming{}, false
	}
	if in.Pattern == nil && in.Data == nil {
		return incoming{Data: trimmed}, true
	}
	return in, true
}

// referenceReply decodes a reply packet the plain way: decodeReply must
// agree with it.
func referenceReply(body []byte) (reply, bool) {
	var env envelope
	if err := jsonv2.Unmarshal(body, &env, jsonv2.RejectUnknownMembers(true)); err != nil {
		if !jsontext.Value(body).IsValid() {
			return reply{}, false
		}
		return reply{response: body}, true
	}
	r := reply{response: json.RawMessage(env.Response)}
	if env.Err != nil && !falsy(json.RawMessage(env.Err)) {
		r.err = json.RawMessage(env.Err)
	}
	return r, true
}

// FuzzDecodeIncoming checks that no message crashes the server's decoding
// and that every reply built from a decoded message is valid JSON.
func FuzzDecodeIncoming(f *testing.F) {
	for _, s := range []string{
		`{"pattern":"math.sum","data":[1,2],"id":"1"}`,
		`{"pattern":{"cmd":"x"},"data":null}`,
		`[1,2]`, ``, `not json`, `{"id":7}`, `{"data":1,"data":2}`, `{"pattern":"a","id":null}`,
		`{"p\u0061ttern":"a","data":1}`, `{"pattern":"a"} x`, `{"PATTERN":"a","data":1}`, "{\"pattern\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeIncoming(body)
		want, ok := referenceIncoming(body)
		switch {
		case ok != (err == nil):
			t.Fatalf("decodeIncoming(%q): error %v, the json/v2 reference accepts it: %v", body, err, ok)
		case ok && (!bytes.Equal(in.Pattern, want.Pattern) || !bytes.Equal(in.Data, want.Data) || !bytes.Equal(in.ID, want.ID) ||
			(in.Pattern == nil) != (want.Pattern == nil) || (in.Data == nil) != (want.Data == nil) || (in.ID == nil) != (want.ID == nil)):
			t.Fatalf("decodeIncoming(%q) = %q, the json/v2 reference gives %q", body, in, want)
		}
		if err != nil {
			if err.Code != msregistry.CodeInvalidFrame {
				t.Fatalf("error code %q", err.Code)
			}
			if r := appendErrorReply(nil, nil, err); !json.Valid(r) {
				t.Fatalf("error reply %q is not JSON", r)
			}
			return
		}
		if in.Data != nil && !json.Valid(in.Data) {
			t.Fatalf("data %q is not JSON", in.Data)
		}
		if r := appendResponseTail(append(appendResponseHead(nil, in.ID), `"ok"`...)); !json.Valid(r) {
			t.Fatalf("reply %q is not JSON", r)
		}
	})
}

// FuzzDecodeReply checks that no reply crashes the client.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","response":3,"isDisposed":true}`,
		`{"id":"1","err":{"code":"x","message":"y"},"isDisposed":true}`,
		`{"err":"text"}`, `{"other":1}`, `[1]`, `nope`, ``,
		` {"id":"1","response":null} `, `{"id":"1","id":"2"}`, `{"\u0069d":"1","response":2}`, `{"response":1} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(body)
		want, ok := referenceReply(body)
		switch {
		case ok != (err == nil):
			t.Fatalf("decodeReply(%q): error %v, the json/v2 reference accepts it: %v", body, err, ok)
		case ok && (!bytes.Equal(r.response, want.response) || !bytes.Equal(r.err, want.err) || (r.err == nil) != (want.err == nil)):
			t.Fatalf("decodeReply(%q) = %q, the json/v2 reference gives %q", body, r, want)
		}
		if err != nil {
			return
		}
		if r.err != nil {
			_ = remoteError(r.err)
		}
		if r.response != nil && !json.Valid(r.response) {
			t.Fatalf("response %q is not JSON", r.response)
		}
	})
}

// FuzzSubject checks that no pattern crashes the normalisation.
func FuzzSubject(f *testing.F) {
	for _, s := range []string{`{"cmd":"x","a":[1,{"b":null}]}`, `{"n":1e400}`, `{`, `app.info`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		_, _ = Subject(pattern)
		_, _ = patternJSON(pattern)
	})
}
