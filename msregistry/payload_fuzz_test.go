package msregistry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/fxforge/fxforge/msregistry"
)

// payloadShape is a handler input with the kinds of fields payloads carry:
// tagged and untagged names (matched case-insensitively, as encoding/json
// does), numbers, strings, pointers, slices, maps and nesting.
type payloadShape struct {
	Name    string            `json:"name"`
	Count   int               `json:"count"`
	Ratio   float64           `json:"ratio,omitempty"`
	Tags    []string          `json:"tags"`
	Attrs   map[string]string `json:"attrs"`
	Inner   *payloadShape     `json:"inner"`
	Raw     json.RawMessage   `json:"raw"`
	Any     any               `json:"any"`
	Flag    bool
	Ignored string `json:"-"`
}

// FuzzPayloadDecodesAsEncodingJSON checks that a message handler's input
// is decoded exactly as encoding/json decodes it: the same payloads are
// refused, and the accepted ones give the same value.
func FuzzPayloadDecodesAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","count":1,"tags":["x"],"attrs":{"k":"v"},"inner":{"count":2},"raw":[1, 2],"any":{"z":null},"flag":true}`,
		`{"NAME":"a","Count":"1"}`, `{"count":1.5}`, `{"count":1e400}`, `[1]`, `"s"`, `{"name":"a","name":"b"}`,
		`{"name":"\u00e9\ud800"}`, "{\"name\":\"\xff\"}", `{"ratio":-0}`, `{"inner":{"inner":{"inner":null}}}`, `{"-":"x","Ignored":"y"}`,
		`{"tags":null,"attrs":{"a":1}}`, `{"raw":{"a" : 1}}`, `{"count":1}x`, `{"any":[1.0,2e3,true]}`,
	} {
		f.Add([]byte(s))
	}
	reg := msregistry.New()
	var got payloadShape
	if err := msregistry.Message(reg, "shape", func(_ context.Context, in payloadShape) (bool, error) {
		got = in
		return true, nil
	}); err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, payload []byte) {
		if p := bytes.TrimSpace(payload); len(p) == 0 || string(p) == "null" {
			return // no payload: the registry leaves the input at its zero value
		}
		var want payloadShape
		stdErr := json.Unmarshal(payload, &want)
		got = payloadShape{}
		_, err := reg.Call(ctx, msregistry.Incoming{Transport: "fuzz", Pattern: "shape", Payload: payload})
		switch {
		case (err == nil) != (stdErr == nil):
			t.Fatalf("payload %q: registry error %v, encoding/json error %v", payload, err, stdErr)
		case err != nil:
			var e *msregistry.Error
			if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidPayload {
				t.Fatalf("payload %q: error %v, want invalid_payload", payload, err)
			}
		case !reflect.DeepEqual(got, want):
			t.Fatalf("payload %q: decoded %+v, encoding/json decodes %+v", payload, got, want)
		}
	})
}

// celsius refuses strings with encoding/json's own error type.
type celsius float64

func (c *celsius) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[celsius](), Field: "temp"}
	}
	*c = celsius(f)
	return nil
}

func TestPayloadErrorFromAnUnmarshalJSONMethodNamesTheField(t *testing.T) {
	reg := msregistry.New()
	if err := msregistry.Message(reg, "weather", func(_ context.Context, in struct {
		Temp celsius `json:"temp"`
	}) (float64, error) {
		return float64(in.Temp), nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := reg.Call(context.Background(), msregistry.Incoming{Transport: "test", Pattern: "weather", Payload: []byte(`{"temp":"hot"}`)})
	var e *msregistry.Error
	if !errors.As(err, &e) || e.Code != msregistry.CodeInvalidPayload || e.Message != `payload field "temp": cannot decode string into msregistry_test.celsius` {
		t.Fatalf("err = %v, want invalid_payload naming the field", err)
	}
}
