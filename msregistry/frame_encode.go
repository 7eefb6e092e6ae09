package msregistry

import (
	"bytes"
	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"
)

// maxEchoedPattern is the longest pattern an error frame carries, so an
// error reply to a huge frame stays small.
const maxEchoedPattern = 256

// AppendResponse appends a response frame to dst and returns the extended
// buffer:
//
//	{"kind":"response","pattern":"app.info","id":"c-17","payload":{...},"metadata":{}}
//
// id and payload must be valid JSON; "id" is left out when id is empty and
// an empty payload is written as null.
func AppendResponse(dst []byte, pattern string, id, payload json.RawMessage) []byte {
	dst = appendResponseHead(dst, pattern, id)
	if len(payload) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, payload...)
	}
	return appendResponseTail(dst)
}

// appendResponseHead writes a response frame up to its payload.
func appendResponseHead(dst []byte, pattern string, id json.RawMessage) []byte {
	dst = append(dst, `{"kind":"response","pattern":`...)
	dst = appendString(dst, pattern)
	if len(id) > 0 {
		dst = append(dst, `,"id":`...)
		dst = append(dst, id...)
	}
	return append(dst, `,"payload":`...)
}

func appendResponseTail(dst []byte) []byte { return append(dst, `,"metadata":{}}`...) }

// AppendError appends an error frame to dst and returns the extended buffer:
//
//	{"kind":"error","pattern":"app.info","id":"c-17","error":{"code":"not_found","message":"..."}}
//
// "pattern" is left out when pattern is empty or longer than 256 bytes, and
// "id" when id is empty; id must be valid JSON. A nil e or an empty code is
// sent as CodeInternal.
func AppendError(dst []byte, pattern string, id json.RawMessage, e *Error) []byte {
	if e == nil {
		e = errInternal()
	}
	code := e.Code
	if code == "" {
		code = CodeInternal
	}
	dst = append(dst, `{"kind":"error"`...)
	if pattern != "" && len(pattern) <= maxEchoedPattern {
		dst = append(dst, `,"pattern":`...)
		dst = appendString(dst, pattern)
	}
	if len(id) > 0 {
		dst = append(dst, `,"id":`...)
		dst = append(dst, id...)
	}
	dst = append(dst, `,"error":{"code":`...)
	dst = appendString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	return append(dst, "}}"...)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// U+2028 and U+2029 are escaped, so the output is valid JSON and safe
// inside JavaScript.
func appendString(dst []byte, s string) []byte {
	start := len(dst)
	dst, _ = jsontext.AppendQuote(dst, s) // the error only reports replaced invalid UTF-8
	return escapeLineSeparators(dst, start)
}

// escapeLineSeparators replaces U+2028 and U+2029 in b[from:], JSON text,
// with their \u escapes: JSON allows them raw in strings, JavaScript source
// does not.
func escapeLineSeparators(b []byte, from int) []byte {
	tail := b[from:]
	if bytes.IndexByte(tail, 0xe2) < 0 { // the first byte of both in UTF-8
		return b
	}
	tail = bytes.ReplaceAll(tail, []byte("\u2028"), []byte(`\u2028`)) // a copy
	tail = bytes.ReplaceAll(tail, []byte("\u2029"), []byte(`\u2029`))
	return append(b[:from:from], tail...) // never writes past from: b may be a frame's id
}
