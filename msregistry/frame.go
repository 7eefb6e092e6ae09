package msregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
)

// Frame is one incoming JSON frame of the WebSocket protocol:
//
//	{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}
//
// kind is "message" (a reply is expected) or "event" (no reply). metadata is
// an object of string values; NestForge's {"values":{...}} form is accepted
// too. id is an optional correlation id, a JSON string or number, echoed
// verbatim in the reply. Keys other than these are ignored.
type Frame struct {
	// Kind is KindMessage or KindEvent.
	Kind Kind
	// Pattern selects the handler; it is never empty.
	Pattern string
	// Payload is the raw JSON payload; nil when the frame had none.
	Payload json.RawMessage
	// Metadata is the decoded metadata; nil when it was absent, null or {}.
	Metadata Metadata
	// ID is the raw JSON correlation id (a string or number); nil when the
	// frame had none.
	ID json.RawMessage
}

// DecodeFrame decodes one incoming frame. Every error it returns is an
// *Error with CodeInvalidFrame and a message that says what is wrong. The
// Payload and ID of the result share memory with data.
func DecodeFrame(data []byte) (Frame, error) {
	var w wireFrame
	if err := w.decode(data); err != nil {
		return Frame{}, err
	}
	md, err := decodeMetadata(w.metadata, true)
	if err != nil {
		return Frame{}, err
	}
	return Frame{Kind: w.kind, Pattern: string(w.pattern), Payload: w.payload, Metadata: md, ID: w.id}, nil
}

// wireFrame is a frame as read from the wire; every slice points into the
// input.
type wireFrame struct {
	kind       Kind
	pattern    []byte // unquoted
	hasPattern bool   // pattern was a string, maybe empty
	payload    []byte
	metadata   []byte
	id         []byte
}

func invalidFrame(msg string) *Error { return NewError(CodeInvalidFrame, msg) }

// decode reads data into w. On error, w still holds the pattern and id if
// they could be read, so the error reply can carry them.
func (w *wireFrame) decode(data []byte) *Error {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			return invalidFrame("frame is not valid JSON")
		}
		return invalidFrame("frame is not valid JSON: " + err.Error())
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return invalidFrame("frame must be a JSON object, got " + jsonKindOf(data[i]))
	}
	var kind, pattern []byte
	i++
	for {
		i = skipSpace(data, i)
		if data[i] == '}' {
			break
		}
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		kEnd := skipString(data, i)
		key := data[i:kEnd]
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // ':'
		vEnd := skipValue(data, i)
		val := data[i:vEnd]
		i = vEnd
		switch {
		case keyIs(key, "kind"):
			kind = val
		case keyIs(key, "pattern"):
			pattern = val
		case keyIs(key, "payload"):
			w.payload = val
		case keyIs(key, "metadata"):
			w.metadata = val
		case keyIs(key, "id"):
			w.id = val
		}
	}
	if string(w.metadata) == "null" {
		w.metadata = nil
	}

	// Read pattern and id first: error replies carry them.
	var idErr *Error
	switch {
	case w.id == nil || string(w.id) == "null":
		w.id = nil
	case w.id[0] == '"':
		if !utf8.Valid(w.id) {
			// Echo it as encoding/json reads it, so replies stay valid UTF-8.
			w.id = appendString(nil, string(unquote(w.id)))
		}
	case w.id[0] == '-' || (w.id[0] >= '0' && w.id[0] <= '9'):
	default:
		idErr = invalidFrame("id must be a string or a number, got " + jsonKindOf(w.id[0]))
		w.id = nil
	}
	var patternErr *Error
	switch {
	case pattern == nil || string(pattern) == "null":
		patternErr = invalidFrame(`missing "pattern"`)
	case pattern[0] != '"':
		patternErr = invalidFrame(`"pattern" must be a string, got ` + jsonKindOf(pattern[0]))
	default:
		w.pattern, w.hasPattern = unquote(pattern), true
		if len(w.pattern) == 0 {
			patternErr = invalidFrame(`"pattern" must not be empty`)
		}
	}

	switch {
	case kind == nil || string(kind) == "null":
		return invalidFrame(`missing "kind"; want "message" or "event"`)
	case kind[0] != '"':
		return invalidFrame(`"kind" must be a string, got ` + jsonKindOf(kind[0]))
	}
	switch k := unquote(kind); string(k) {
	case "message":
		w.kind = KindMessage
	case "event":
		w.kind = KindEvent
	default:
		return invalidFrame(fmt.Sprintf(`unknown kind %s; want "message" or "event"`, quote(k)))
	}
	if patternErr != nil {
		return patternErr
	}
	if idErr != nil {
		return idErr
	}
	if w.metadata != nil && w.metadata[0] != '{' {
		return invalidFrame("metadata must be an object of string values, got " + jsonKindOf(w.metadata[0]))
	}
	return nil
}

// decodeMetadata decodes a metadata object that is known to be valid JSON:
// an object of string values, or (when unwrap is set) {"values":{...}} with
// such an object inside. {} and nil give nil.
func decodeMetadata(raw []byte, unwrap bool) (Metadata, *Error) {
	if raw == nil {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, invalidFrame("metadata must be an object of string values, got " + jsonKindOf(raw[0]))
	}
	n := 0
	var firstKey, firstVal []byte
	for key, val := range objectMembers(raw) {
		if n == 0 {
			firstKey, firstVal = key, val
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	if unwrap && n == 1 && keyIs(firstKey, "values") && firstVal[0] == '{' {
		return decodeMetadata(firstVal, false)
	}
	md := make(Metadata, n)
	for key, val := range objectMembers(raw) {
		if val[0] != '"' {
			return nil, invalidFrame(fmt.Sprintf("metadata value for key %s must be a string, got %s", quote(unquote(key)), jsonKindOf(val[0])))
		}
		md[string(unquote(key))] = string(unquote(val))
	}
	return md, nil
}

// objectMembers yields the raw key and value of each member of obj, an
// object known to be valid JSON.
func objectMembers(obj []byte) func(yield func(key, val []byte) bool) {
	return func(yield func(key, val []byte) bool) {
		i := skipSpace(obj, 1)
		for obj[i] != '}' {
			if obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
			kEnd := skipString(obj, i)
			key := obj[i:kEnd]
			i = skipSpace(obj, skipSpace(obj, kEnd)+1)
			vEnd := skipValue(obj, i)
			if !yield(key, obj[i:vEnd]) {
				return
			}
			i = skipSpace(obj, vEnd)
		}
	}
}

// The scanners below assume valid JSON (json.Valid has checked it).

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// keyIs reports whether the raw JSON string key equals name.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	return bytes.IndexByte(key, '\\') >= 0 && string(unquote(key)) == name
}

// unquote returns the contents of the raw JSON string s, decoded the way
// encoding/json decodes strings. Without escapes or non-ASCII bytes it is a
// subslice of s.
func unquote(s []byte) []byte {
	in := s[1 : len(s)-1]
	simple := true
	for _, c := range in {
		if c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return in
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return in
	}
	return []byte(out)
}

// quote returns s as a JSON string, for error messages.
func quote(s []byte) string { return string(appendString(nil, string(s))) }

// jsonKindOf names the JSON type of the value that starts with c.
func jsonKindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

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
// "pattern" is left out when pattern is empty and "id" when id is empty; id
// must be valid JSON. A nil e or an empty code is sent as CodeInternal.
func AppendError(dst []byte, pattern string, id json.RawMessage, e *Error) []byte {
	if e == nil {
		e = errInternal()
	}
	code := e.Code
	if code == "" {
		code = CodeInternal
	}
	dst = append(dst, `{"kind":"error"`...)
	if pattern != "" {
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Like encoding/json it escapes
// control characters, replaces invalid UTF-8 with U+FFFD and escapes U+2028
// and U+2029, so the output is valid JSON and safe inside JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// HandleFrame is the entry point of frame transports such as the WebSocket
// adapter. It decodes one frame from data, dispatches it and appends the
// encoded reply to dst.
//
// A message gets a response frame, or an error frame when it fails; ok is
// true. An event runs its handlers before HandleFrame returns and gets no
// reply (ok is false) unless it cannot be dispatched: a malformed frame, an
// unknown pattern or an undecodable payload always gets an error frame, so
// nothing is dropped silently. The id of the frame is echoed whenever it
// could be read. transport names the transport in handler contexts.
func (r *Registry) HandleFrame(ctx context.Context, transport string, data []byte, dst []byte) (reply []byte, ok bool) {
	var w wireFrame
	if err := w.decode(data); err != nil {
		r.log.Debug("invalid frame", zap.String("transport", transport), zap.String("request_id", identity.RequestID(ctx)), zap.Error(err))
		return AppendError(dst, receivedPattern(&w), w.id, err), true
	}
	md, merr := decodeMetadata(w.metadata, true)
	if merr != nil {
		return AppendError(dst, string(w.pattern), w.id, merr), true
	}
	t := r.table.Load()
	if w.kind == KindEvent {
		hs := t.events[string(w.pattern)]
		if len(hs) == 0 {
			return AppendError(dst, string(w.pattern), w.id, r.notFound(KindEvent, transport, string(w.pattern))), true
		}
		if err := r.Emit(ctx, Incoming{Transport: transport, Pattern: hs[0].pattern, Payload: w.payload, Metadata: md}); err != nil {
			return AppendError(dst, hs[0].pattern, w.id, asError(err)), true
		}
		return dst, false
	}
	e := t.messages[string(w.pattern)]
	if e == nil {
		return AppendError(dst, string(w.pattern), w.id, r.notFound(KindMessage, transport, string(w.pattern))), true
	}
	start := len(dst)
	dst = appendResponseHead(dst, e.pattern, w.id)
	enc := r.getEncoder()
	out, err := r.invoke(ctx, e, transport, w.payload, md, enc, dst)
	r.putEncoder(enc)
	if err != nil {
		return AppendError(out[:start], e.pattern, w.id, asError(err)), true
	}
	return appendResponseTail(out), true
}

// receivedPattern returns the pattern of a frame that failed to decode, as
// far as it could be read.
func receivedPattern(w *wireFrame) string {
	if !w.hasPattern {
		return ""
	}
	return string(w.pattern)
}
