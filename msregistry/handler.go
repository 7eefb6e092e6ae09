package msregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// messageFunc checks the caller, decodes and validates payload, runs a typed
// message handler and appends the JSON-encoded result to dst. It is built
// once, at registration, so dispatch uses no reflection of its own.
type messageFunc func(ctx context.Context, payload json.RawMessage, enc *encoder, dst []byte) ([]byte, error)

// eventFunc checks, decodes and runs a typed event handler. perr is set when
// the event could not be dispatched to it (a guard refused, the payload did
// not decode or validate; the handler did not run); err is the handler's
// error.
type eventFunc func(ctx context.Context, payload json.RawMessage) (perr *Error, err error)

type messageEntry struct {
	pattern string
	fn      messageFunc
}

type eventEntry struct {
	pattern string
	fn      eventFunc
}

// Message registers h as the request/response handler for pattern. The
// payload of each call is decoded from JSON into P (a null or absent
// payload gives the zero P) and h's result is encoded to JSON as the reply.
// Before h runs, the pattern's guards (WithGuards) check the caller, and,
// when P or *P implements Validator, the decoded input is validated.
//
// h may return an *Error (possibly wrapped) to answer with its own code and
// message; any other error, and any panic, reaches the client as
// CodeInternal and is logged in full. Registering a pattern twice returns an
// error wrapping ErrDuplicatePattern; an empty pattern one wrapping
// ErrEmptyPattern.
func Message[P, R any](reg *Registry, pattern string, h func(ctx context.Context, in P) (R, error), opts ...PatternOption) error {
	if h == nil {
		return fmt.Errorf("msregistry: register message handler for %q: nil handler", pattern)
	}
	po := newPatternOptions(opts)
	validate := validatorFor[P]()
	fn := func(ctx context.Context, payload json.RawMessage, enc *encoder, dst []byte) ([]byte, error) {
		if err := po.allow(ctx); err != nil {
			return dst, err
		}
		var in P
		if err := decodePayload(payload, &in); err != nil {
			return dst, err
		}
		if validate != nil {
			if err := validate(&in); err != nil {
				return dst, err
			}
		}
		out, err := h(ctx, in)
		if err != nil {
			return dst, err
		}
		res, err := enc.encode(dst, out)
		if err != nil {
			return dst, fmt.Errorf("msregistry: encode result of %q: %w", pattern, err)
		}
		return res, nil
	}
	return reg.addMessage(&messageEntry{pattern: pattern, fn: fn})
}

// Event registers h as one of the fire-and-forget handlers for pattern.
// Several handlers may share a pattern; every one of them runs, in
// registration order, for each event. The payload is decoded from JSON into
// P, and checked by guards and Validate, as for Message; a handler whose
// check fails is skipped and Emit returns the failure. A handler's own error
// or panic is logged with the pattern and request id and never reaches the
// sender. An empty pattern returns an error wrapping ErrEmptyPattern.
func Event[P any](reg *Registry, pattern string, h func(ctx context.Context, in P) error, opts ...PatternOption) error {
	if h == nil {
		return fmt.Errorf("msregistry: register event handler for %q: nil handler", pattern)
	}
	po := newPatternOptions(opts)
	validate := validatorFor[P]()
	fn := func(ctx context.Context, payload json.RawMessage) (*Error, error) {
		if err := po.allow(ctx); err != nil {
			if e := asError(err); e != nil {
				return e, nil
			}
			return nil, err
		}
		var in P
		if err := decodePayload(payload, &in); err != nil {
			return err, nil
		}
		if validate != nil {
			if err := validate(&in); err != nil {
				return err, nil
			}
		}
		return nil, h(ctx, in)
	}
	return reg.addEvent(&eventEntry{pattern: pattern, fn: fn})
}

// decodePayload decodes payload into v, leaving v alone for an empty or null
// payload. It decodes as encoding/json does (the same rules: case-insensitive
// field names, UnmarshalJSON methods, the same error types and messages)
// with go-json-experiment's v1 API, which runs on the json/v2 decoder: about
// 1.6 times as fast, with a third of the allocations.
func decodePayload(payload json.RawMessage, v any) *Error {
	if isNull(payload) {
		return nil
	}
	if err := jsonv1.Unmarshal(payload, v); err != nil {
		return payloadError(err)
	}
	return nil
}

// isNull reports whether b is empty, whitespace or the JSON literal null.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// encoder encodes results without json.Marshal's final copy: a pooled
// json.Encoder writes straight into the destination buffer.
type encoder struct {
	w   appendWriter
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.w)
	return e
}

// encode appends the JSON encoding of v to dst, with the same output as
// json.Marshal.
func (e *encoder) encode(dst []byte, v any) ([]byte, error) {
	e.w.buf = dst
	err := e.enc.Encode(v)
	out := e.w.buf
	e.w.buf = nil
	if err != nil {
		return dst, err
	}
	return out[:len(out)-1], nil // Encode ends every value with '\n'
}

// appendWriter is an io.Writer that appends to buf.
type appendWriter struct{ buf []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}
