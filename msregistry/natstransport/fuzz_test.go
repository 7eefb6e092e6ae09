package natstransport

import (
	"encoding/json"
	"testing"

	"github.com/fxforge/fxforge/msregistry"
)

// FuzzDecodeIncoming checks that no message crashes the server's decoding
// and that every reply built from a decoded message is valid JSON.
func FuzzDecodeIncoming(f *testing.F) {
	for _, s := range []string{
		`{"pattern":"math.sum","data":[1,2],"id":"1"}`,
		`{"pattern":{"cmd":"x"},"data":null}`,
		`[1,2]`, ``, `not json`, `{"id":7}`, `{"data":1,"data":2}`, `{"pattern":"a","id":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeIncoming(body)
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
		if r := appendResponse(nil, in.ID, []byte(`"ok"`)); !json.Valid(r) {
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(body)
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
