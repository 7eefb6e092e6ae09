package msregistry

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Error codes sent to clients in error frames. A handler may use its own
// codes too; these are the ones the registry and the transports produce.
const (
	// CodeInvalidFrame means the frame could not be read: malformed JSON, a
	// frame that is not an object, or a missing or wrong kind, pattern,
	// metadata or id.
	CodeInvalidFrame = "invalid_frame"
	// CodeNotFound means no handler is registered for the pattern.
	CodeNotFound = "not_found"
	// CodeInvalidPayload means the payload did not decode into the handler's
	// input type, or the decoded input failed its Validate method.
	CodeInvalidPayload = "invalid_payload"
	// CodeUnauthorized means a guard of the pattern refused a caller that
	// is anonymous or whose credentials were rejected.
	CodeUnauthorized = "unauthorized"
	// CodeForbidden means a guard of the pattern refused a known caller.
	CodeForbidden = "forbidden"
	// CodeInternal means the handler failed with an error that is not an
	// *Error, or panicked. The details are logged, never sent.
	CodeInternal = "internal"
	// CodeRateLimited means the client sent more than it is allowed to.
	CodeRateLimited = "rate_limited"
	// CodeUnavailable means the server cannot take the request now, for
	// example because it is shutting down.
	CodeUnavailable = "unavailable"
)

// internalMessage is the only thing a client learns about an internal error.
const internalMessage = "internal error"

// Error is an error that is sent to the client as it is, like NestJS's
// RpcException. A handler returns one (possibly wrapped) to answer with its
// own code and message; every other error reaches the client as
// {"code":"internal","message":"internal error"}.
type Error struct {
	// Code is a short machine-readable code such as CodeNotFound.
	Code string
	// Message is a human-readable explanation safe to show to the client.
	Message string
}

// NewError returns an *Error with code and message.
func NewError(code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Error returns "code: message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// errInternal is returned for every failure whose details must stay on the
// server.
func errInternal() *Error { return &Error{Code: CodeInternal, Message: internalMessage} }

// asError returns the *Error in err's chain, or nil when there is none.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	return nil
}

// payloadError turns a decodePayload error into an *Error with
// CodeInvalidPayload whose message names the offending field. The error
// types are the v1 API's of go-json-experiment, or encoding/json's when a
// payload type's UnmarshalJSON method returned one.
func payloadError(err error) *Error {
	var te *jsonv1.UnmarshalTypeError
	var stdTE *json.UnmarshalTypeError
	var se *jsonv1.SyntaxError
	var stdSE *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return payloadTypeError(te.Value, te.Type, te.Field)
	case errors.As(err, &stdTE):
		return payloadTypeError(stdTE.Value, stdTE.Type, stdTE.Field)
	case errors.As(err, &se):
		return payloadSyntaxError(se.Error(), se.Offset)
	case errors.As(err, &stdSE):
		return payloadSyntaxError(stdSE.Error(), stdSE.Offset)
	default:
		return NewError(CodeInvalidPayload, "payload: "+err.Error())
	}
}

// payloadTypeError says which JSON value did not fit which Go type, and
// where.
func payloadTypeError(value string, t reflect.Type, field string) *Error {
	want := "value"
	if t != nil {
		want = jsonTypeName(t)
	}
	if field == "" {
		return NewError(CodeInvalidPayload, fmt.Sprintf("payload: cannot decode %s into %s", value, want))
	}
	return NewError(CodeInvalidPayload, fmt.Sprintf("payload field %q: cannot decode %s into %s", field, value, want))
}

func payloadSyntaxError(msg string, offset int64) *Error {
	return NewError(CodeInvalidPayload, fmt.Sprintf("payload is not valid JSON: %s (offset %d)", msg, offset))
}

// jsonTypeName names t the way a JSON client thinks of it: objects for
// structs and maps, arrays for slices, the Go name for the rest.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return t.String()
	}
}
