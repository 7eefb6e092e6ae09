package msregistry

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Frame is one incoming JSON frame of the WebSocket protocol:
//
//	{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}
//
// kind is "message" (a reply is expected) or "event" (no reply). metadata is
// an object of string values; NestForge's {"values":{...}} form is accepted
// too. id is an optional correlation id, a JSON string or a number that a
// float64 holds, echoed in the reply. Keys match exactly and keys other than
// these are ignored; a frame with a duplicate key anywhere is refused.
type Frame struct {
	// Kind is KindMessage or KindEvent.
	Kind Kind
	// Pattern selects the handler; it is never empty.
	Pattern string
	// Payload is the raw JSON payload; nil when the frame had none.
	Payload json.RawMessage
	// Metadata is the decoded metadata; nil when it was absent, null or {}.
	Metadata Metadata
	// ID is the correlation id as it is echoed: the raw JSON string or
	// number, with U+2028 and U+2029 escaped; nil when the frame had none.
	ID json.RawMessage
}

// DecodeFrame decodes one incoming frame. Every error it returns is an
// *Error with CodeInvalidFrame and a message that says what is wrong. The
// Payload and ID of the result share memory with data (an ID holding U+2028
// or U+2029 is a copy).
func DecodeFrame(data []byte) (Frame, error) {
	d := getFrameDecoder()
	defer putFrameDecoder(d)
	var w wireFrame
	if err := d.decode(data, &w); err != nil {
		return Frame{}, err
	}
	return Frame{Kind: w.kind, Pattern: string(w.pattern), Payload: w.payload, Metadata: w.metadata, ID: w.id}, nil
}

// maxDepth is how deep a frame may nest objects and arrays, the frame
// itself being level 1. Deeper frames are refused: a JSON decoder's cost per
// level grows with the depth.
const maxDepth = 1000

// errTooDeep is the decoder error for a frame nested deeper than maxDepth.
var errTooDeep = fmt.Errorf("nested deeper than %d levels", maxDepth)

// maxQuoted is how many bytes of a client's value an error message quotes
// at most, so that error replies stay small whatever the frame held.
const maxQuoted = 64

// wireFrame is a frame as read from the wire. Its slices point into the
// input, except an id or pattern that had to be rewritten.
type wireFrame struct {
	kind     Kind
	pattern  []byte // unquoted; set when it is a non-empty string
	payload  []byte
	metadata Metadata
	id       []byte // safe to echo; set when it is a valid id
}

// frameDecoder reads frames with a jsontext.Decoder, which checks the whole
// frame: JSON syntax, UTF-8, and duplicate keys in every object.
type frameDecoder struct {
	data []byte
	in   bytes.Buffer // wraps data, so the decoder reads it in place
	dec  jsontext.Decoder
}

// frameDecoders keeps decoders for reuse.
var frameDecoders = sync.Pool{New: func() any { return new(frameDecoder) }}

func getFrameDecoder() *frameDecoder { return frameDecoders.Get().(*frameDecoder) }

func putFrameDecoder(d *frameDecoder) {
	if len(d.data) > maxPooledBuffer {
		return // let the decoder's memory for a huge frame go
	}
	d.data, d.in = nil, bytes.Buffer{}
	d.dec.Reset(&d.in) // drop the decoder's hold on the frame
	frameDecoders.Put(d)
}

func invalidFrame(msg string) *Error { return NewError(CodeInvalidFrame, msg) }

// decode reads data into w. When the frame is valid JSON but breaks a frame
// rule, w still holds the pattern and id if they are valid, so the error
// reply can carry them.
func (d *frameDecoder) decode(data []byte, w *wireFrame) *Error {
	d.data, d.in = data, *bytes.NewBuffer(data)
	d.dec.Reset(&d.in)
	if k := d.dec.PeekKind(); k != '{' {
		if _, err := d.readValue(); err != nil {
			return syntaxError(err)
		}
		if err := d.readEOF(); err != nil {
			return err
		}
		return invalidFrame("frame must be a JSON object, got " + kindName(k))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return syntaxError(err)
	}
	var kind, pattern, id []byte
	var mdErr *Error
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue() // a name: a string
		if err != nil {
			return syntaxError(err)
		}
		switch string(unquote(name)) { // name is only valid until the next read
		case "kind":
			kind, err = d.readValue()
		case "pattern":
			pattern, err = d.readValue()
		case "payload":
			w.payload, err = d.readValue()
		case "id":
			id, err = d.readValue()
		case "metadata":
			w.metadata, mdErr, err = d.readMetadata()
		default:
			_, err = d.readValue()
		}
		if err != nil {
			return syntaxError(err)
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return syntaxError(err)
	}
	if err := d.readEOF(); err != nil {
		return err
	}

	// The frame is valid JSON: read all of it, error replies carry the
	// pattern and id.
	idErr, patternErr, kindErr := w.readID(id), w.readPattern(pattern), w.readKind(kind)
	return cmp.Or(kindErr, patternErr, idErr, mdErr)
}

// readValue reads the next value, or object member name, and returns its
// bytes in the input. Objects and arrays are read token by token, so that
// nesting deeper than maxDepth is refused as soon as it is seen.
func (d *frameDecoder) readValue() ([]byte, error) {
	if k := d.dec.PeekKind(); k != '{' && k != '[' {
		v, err := d.dec.ReadValue()
		if err != nil {
			return nil, err
		}
		end := d.dec.InputOffset()
		return d.data[end-int64(len(v)) : end : end], nil
	}
	depth := d.dec.StackDepth()
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	start := d.dec.InputOffset() - 1
	for d.dec.StackDepth() > depth {
		if d.dec.StackDepth() > maxDepth {
			return nil, errTooDeep
		}
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, err
		}
	}
	end := d.dec.InputOffset()
	return d.data[start:end:end], nil
}

// readEOF checks that nothing but whitespace follows the frame's value.
func (d *frameDecoder) readEOF() *Error {
	_, err := d.dec.ReadToken()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return syntaxError(err)
	default:
		return invalidFrame(fmt.Sprintf("frame has more data after its JSON value at byte %d; send one JSON object per message", d.dec.InputOffset()))
	}
}

// unquote returns the contents of the JSON string s, which the decoder has
// checked: a subslice of s, or a new slice when s has escapes.
func unquote(s []byte) []byte {
	if bytes.IndexByte(s, '\\') < 0 {
		return s[1 : len(s)-1]
	}
	out, _ := jsontext.AppendUnquote(nil, s) // s is valid: no error
	return out
}

// readKind sets w.kind from the raw kind value.
func (w *wireFrame) readKind(kind []byte) *Error {
	switch {
	case kind == nil || string(kind) == "null":
		return invalidFrame(`missing "kind"; want "message" or "event"`)
	case kind[0] != '"':
		return invalidFrame(`"kind" must be a string, got ` + kindName(jsontext.Value(kind).Kind()))
	}
	switch k := unquote(kind); string(k) {
	case "message":
		w.kind = KindMessage
	case "event":
		w.kind = KindEvent
	default:
		return invalidFrame(fmt.Sprintf(`unknown kind %s; want "message" or "event"`, quotePrefix(string(k))))
	}
	return nil
}

// readPattern sets w.pattern from the raw pattern value.
func (w *wireFrame) readPattern(pattern []byte) *Error {
	switch {
	case pattern == nil || string(pattern) == "null":
		return invalidFrame(`missing "pattern"`)
	case pattern[0] != '"':
		return invalidFrame(`"pattern" must be a string, got ` + kindName(jsontext.Value(pattern).Kind()))
	case len(pattern) == 2:
		return invalidFrame(`"pattern" must not be empty`)
	}
	w.pattern = unquote(pattern)
	return nil
}

// readID sets w.id from the raw id value: a string (with U+2028 and U+2029
// escaped, so the echo is safe inside JavaScript) or a number that a float64
// holds.
func (w *wireFrame) readID(id []byte) *Error {
	switch k := jsontext.Value(id).Kind(); {
	case id == nil || k == 'n':
		return nil
	case k == '"':
		w.id = escapeLineSeparators(id, 0)
	case k == '0':
		if _, err := strconv.ParseFloat(string(id), 64); err != nil {
			return invalidFrame(fmt.Sprintf("id %s does not fit a 64-bit float; send a smaller number or a string", quotePrefix(string(id))))
		}
		w.id = id
	default:
		return invalidFrame("id must be a string or a number, got " + kindName(k))
	}
	return nil
}

// readMetadata reads the metadata value: null, an object of string values,
// or NestForge's {"values":{...}} with such an object inside. {} gives nil.
// bad reports a value that breaks these rules; err is a syntax error, after
// which the frame cannot be read on.
func (d *frameDecoder) readMetadata() (md Metadata, bad *Error, err error) {
	switch k := d.dec.PeekKind(); k {
	case 'n':
		_, err = d.dec.ReadToken()
		return nil, nil, err
	case '{':
		return d.readStringObject(true)
	default:
		if _, err := d.readValue(); err != nil {
			return nil, nil, err
		}
		return nil, invalidFrame("metadata must be an object of string values, got " + kindName(k)), nil
	}
}

// readStringObject reads an object of string values. With unwrap, an object
// whose only member is "values" holding an object is read as that object.
func (d *frameDecoder) readStringObject(unwrap bool) (md Metadata, bad *Error, err error) {
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, nil, err
	}
	for n := 0; d.dec.PeekKind() != '}'; n++ {
		name, err := d.dec.ReadToken()
		if err != nil {
			return nil, nil, err
		}
		key := name.String()
		switch k := d.dec.PeekKind(); {
		case k == '"':
			val, err := d.dec.ReadToken()
			if err != nil {
				return nil, nil, err
			}
			if md == nil {
				md = Metadata{}
			}
			md[key] = val.String()
		case k == '{' && unwrap && n == 0 && key == "values":
			inner, innerBad, err := d.readStringObject(false)
			if err != nil {
				return nil, nil, err
			}
			if d.dec.PeekKind() == '}' {
				md, bad = inner, innerBad
				continue
			}
			bad = cmp.Or(bad, notAString(key, k))
		default:
			if _, err := d.readValue(); err != nil {
				return nil, nil, err
			}
			bad = cmp.Or(bad, notAString(key, k))
		}
	}
	_, err = d.dec.ReadToken()
	if bad != nil {
		md = nil
	}
	return md, bad, err
}

func notAString(key string, k jsontext.Kind) *Error {
	return invalidFrame(fmt.Sprintf("metadata value for key %s must be a string, got %s", quotePrefix(key), kindName(k)))
}

// syntaxError describes a decoder error for the client: what is wrong and
// where, quoting at most maxQuoted bytes of the frame.
func syntaxError(err error) *Error {
	const fix = "; send one JSON object, UTF-8 encoded"
	var se *jsontext.SyntacticError
	switch {
	case err == io.EOF:
		return invalidFrame("frame is not valid JSON: it is empty" + fix)
	case err == errTooDeep:
		return invalidFrame(fmt.Sprintf("frame nests objects and arrays deeper than %d levels; send a flatter payload", maxDepth))
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &se):
		where := "at the top level"
		if parent := se.JSONPointer.Parent(); parent != "" {
			where = "in " + quotePrefix(string(parent))
		}
		return invalidFrame(fmt.Sprintf("frame has the key %s twice %s; send each key once", quotePrefix(se.JSONPointer.LastToken()), where))
	case errors.As(err, &se):
		return invalidFrame(fmt.Sprintf("frame is not valid JSON: %s at byte %d%s", prefix(se.Err.Error(), 2*maxQuoted), se.ByteOffset, fix))
	default:
		return invalidFrame("frame is not valid JSON: " + prefix(err.Error(), 2*maxQuoted) + fix)
	}
}

// kindName names a JSON kind the way the client's JSON shows it.
func kindName(k jsontext.Kind) string {
	switch k {
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

// quotePrefix quotes s for an error message: all of it when it is at most
// maxQuoted bytes long, else its first maxQuoted bytes (fewer when they need
// escaping) and its length.
func quotePrefix(s string) string {
	n := min(len(s), maxQuoted)
	q := strconv.Quote(prefix(s, n))
	for len(q) > 2*maxQuoted {
		n /= 2
		q = strconv.Quote(prefix(s, n))
	}
	if n < len(s) {
		q = fmt.Sprintf("%s… (%d bytes)", q, len(s))
	}
	return q
}

// prefix returns at most the first n bytes of s, cut at a rune boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
