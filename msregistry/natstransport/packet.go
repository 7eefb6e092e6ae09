package natstransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/fxforge/fxforge/msregistry"
)

// A request packet is {"pattern":...,"data":...,"id":"..."}; an event packet
// has no id. A reply packet is {"id":...,"response":...,"isDisposed":true}
// or {"id":...,"err":...,"isDisposed":true}. These are NestJS's shapes.

// appendRequest appends a request (id != "") or event packet to dst.
func appendRequest(dst, pattern, data []byte, id string) []byte {
	dst = append(dst, `{"pattern":`...)
	dst = append(dst, pattern...)
	dst = append(dst, `,"data":`...)
	dst = append(dst, data...)
	if id != "" {
		dst = append(dst, `,"id":"`...)
		dst = append(dst, id...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// incoming is a request or event packet as the server read it. Each field
// is nil when the key was absent and the JSON text (maybe null) otherwise.
type incoming struct {
	Pattern jsontext.Value `json:"pattern"`
	Data    jsontext.Value `json:"data"`
	ID      jsontext.Value `json:"id"`
}

// maxQuoted bounds how much of a malformed message an error quotes.
const maxQuoted = 64

// decodeIncoming reads a request or event packet. A body that is not a
// JSON object, or an object with neither pattern nor data, is a foreign
// message (NestJS calls it external): all of it is the data. An empty body
// is a foreign message with null data. Names are matched exactly, and an
// object that repeats a name is malformed. Every error is an
// *msregistry.Error with CodeInvalidFrame.
func decodeIncoming(body []byte) (incoming, *msregistry.Error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return incoming{}, nil
	}
	if trimmed[0] != '{' {
		if !jsontext.Value(trimmed).IsValid() {
			return incoming{}, malformed(body, nil)
		}
		return incoming{Data: trimmed}, nil
	}
	var in incoming
	err := eachMember(trimmed, func(name, value []byte) {
		switch string(name) {
		case "pattern":
			in.Pattern = value
		case "data":
			in.Data = value
		case "id":
			in.ID = value
		}
	})
	if err != nil {
		return incoming{}, malformed(body, err)
	}
	if in.Pattern == nil && in.Data == nil {
		return incoming{Data: trimmed}, nil
	}
	return in, nil
}

// prefix returns at most maxQuoted bytes of b, for error messages.
func prefix(b []byte) []byte {
	if len(b) > maxQuoted {
		return b[:maxQuoted]
	}
	return b
}

func malformed(body []byte, err error) *msregistry.Error {
	q := prefix(body)
	msg := fmt.Sprintf("message is not valid JSON (starts %q); send a NestJS packet such as {\"pattern\":\"app.info\",\"data\":null,\"id\":\"1\"}", q)
	if err != nil {
		msg = fmt.Sprintf("message is not a valid packet: %v (starts %q); send a NestJS packet such as {\"pattern\":\"app.info\",\"data\":null,\"id\":\"1\"}", err, q)
	}
	return msregistry.NewError(msregistry.CodeInvalidFrame, msg)
}

// appendResponseHead appends a success reply up to its response value; id
// is the request's raw JSON id, or nil to leave it out.
func appendResponseHead(dst, id []byte) []byte {
	return append(appendReplyID(dst, id), `"response":`...)
}

// appendResponseTail appends what follows the response value.
func appendResponseTail(dst []byte) []byte { return append(dst, `,"isDisposed":true}`...) }

// wireError is an error as NestJS's RpcException carries it.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// appendErrorReply appends an error reply carrying e to dst.
func appendErrorReply(dst, id []byte, e *msregistry.Error) []byte {
	dst = appendReplyID(dst, id)
	dst = append(dst, `"err":`...)
	b, _ := json.Marshal(wireError{Code: e.Code, Message: e.Message}) // two strings never fail
	dst = append(dst, b...)
	return append(dst, `,"isDisposed":true}`...)
}

func appendReplyID(dst, id []byte) []byte {
	dst = append(dst, '{')
	if id != nil {
		dst = append(dst, `"id":`...)
		dst = append(dst, id...)
		dst = append(dst, ',')
	}
	return dst
}

// envelope is a reply packet: NestJS's replies carry these names only.
type envelope struct {
	ID         jsontext.Value `json:"id"`
	Response   jsontext.Value `json:"response"`
	Err        jsontext.Value `json:"err"`
	IsDisposed jsontext.Value `json:"isDisposed"`
	Status     jsontext.Value `json:"status"`
}

// reply is a decoded reply packet.
type reply struct {
	response json.RawMessage
	err      json.RawMessage // nil unless the reply is an error
}

// errReplyNotJSON is returned by decodeReply for a body that is not JSON.
var errReplyNotJSON = errors.New("the reply is not valid JSON")

// decodeReply reads a reply. As in NestJS, a body that is not an object, or
// an object with names beyond the envelope's, is a foreign reply: all of it
// is the response.
func decodeReply(body []byte) (reply, error) {
	var env envelope
	foreign := false
	err := eachMember(body, func(name, value []byte) {
		switch string(name) {
		case "id":
			env.ID = value
		case "response":
			env.Response = value
		case "err":
			env.Err = value
		case "isDisposed":
			env.IsDisposed = value
		case "status":
			env.Status = value
		default:
			foreign = true
		}
	})
	if err != nil || foreign {
		if !jsontext.Value(body).IsValid() {
			return reply{}, errReplyNotJSON
		}
		return reply{response: body}, nil
	}
	r := reply{response: json.RawMessage(env.Response)}
	if env.Err != nil && !falsy(json.RawMessage(env.Err)) {
		r.err = json.RawMessage(env.Err)
	}
	return r, nil
}

// falsy reports whether the JSON value v is false in JavaScript: null,
// false, 0 or "".
func falsy(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "null", "false", "0", `""`:
		return true
	}
	return false
}

// remoteError turns the err of a reply into an *msregistry.Error. NestJS's
// RpcException({code, message}) arrives as {"code":...,"message":...};
// other NestJS errors as {"status":"error","message":...} or as a string.
// A missing code becomes the status, else CodeRemote.
func remoteError(raw json.RawMessage) *msregistry.Error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return msregistry.NewError(CodeRemote, s)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return msregistry.NewError(CodeRemote, string(raw))
	}
	code := jsonText(obj["code"])
	if code == "" {
		code = jsonText(obj["status"])
	}
	if code == "" {
		code = CodeRemote
	}
	msg := jsonText(obj["message"])
	if msg == "" {
		msg = string(raw)
	}
	return msregistry.NewError(code, msg)
}

// jsonText returns a JSON string's value, a number's text, or "".
func jsonText(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}
