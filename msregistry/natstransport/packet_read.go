package natstransport

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// objectReader reads a packet's members with a jsontext.Decoder, which
// checks JSON syntax, UTF-8 and duplicate names as it reads. Member values
// are handed out as subslices of the packet, so nothing is copied; decoding
// into a struct of jsontext.Value fields instead copies every value and
// costs about three times as much per packet.
type objectReader struct {
	in  bytes.Buffer // wraps the packet, so the decoder reads it in place
	dec jsontext.Decoder
}

var objectReaders = sync.Pool{New: func() any { return new(objectReader) }}

// errTrailingData reports a packet with more than one JSON value.
var errTrailingData = errors.New("more data after the JSON object")

// eachMember reads body, which must hold one JSON object and nothing else,
// and calls member with each member's name, unquoted, and raw value, both
// subslices of body (the name is a copy when it has escapes).
func eachMember(body []byte, member func(name, value []byte)) error {
	r := objectReaders.Get().(*objectReader)
	defer func() {
		r.in = bytes.Buffer{}
		r.dec.Reset(&r.in) // drop the decoder's hold on body
		objectReaders.Put(r)
	}()
	r.in = *bytes.NewBuffer(body)
	r.dec.Reset(&r.in)
	if tok, err := r.dec.ReadToken(); err != nil {
		return err
	} else if tok.Kind() != '{' {
		return errors.New("not a JSON object")
	}
	for r.dec.PeekKind() != '}' {
		name, err := r.read(body)
		if err != nil {
			return err
		}
		if bytes.IndexByte(name, '\\') < 0 {
			name = name[1 : len(name)-1]
		} else if name, err = jsontext.AppendUnquote(nil, name); err != nil {
			return err
		}
		value, err := r.read(body)
		if err != nil {
			return err
		}
		member(name, value)
	}
	if _, err := r.dec.ReadToken(); err != nil {
		return err
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errTrailingData
		}
		return err
	}
	return nil
}

// read reads the next value or member name and returns it as a subslice of
// body.
func (r *objectReader) read(body []byte) ([]byte, error) {
	v, err := r.dec.ReadValue()
	if err != nil {
		return nil, err
	}
	end := r.dec.InputOffset()
	return body[end-int64(len(v)) : end : end], nil
}
