package natsbroker

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/wsgateway"
)

// A hub message travels as one NATS message: the WebSocket message,
// unchanged, is the body, and these headers say who sent it and where it
// goes. Names and ids are path-escaped (url.PathEscape), so any room name
// survives NATS's header rules (which trim spaces and replace newlines);
// the names of most rooms read unchanged in `nats sub`.
const (
	headerNode   = "Fxforge-Node"   // the publishing hub's node id, or ""
	headerTarget = "Fxforge-Target" // "all", "room/<name>" or "conn/<id>"
	headerExcept = "Fxforge-Except" // the connection left out; absent for none
	headerType   = "Fxforge-Type"   // "text" or "binary"
)

const (
	kindAll    = "all"
	kindRoom   = "room"
	kindConn   = "conn"
	typeText   = "text"
	typeBinary = "binary"
)

// encode turns m into the NATS message published on subject.
func encode(subject string, m wsgateway.BrokerMessage) (*nats.Msg, error) {
	var target string
	switch t := m.Target; {
	case t.All():
		target = kindAll
	case t.IsRoom():
		target = kindRoom + "/" + url.PathEscape(t.Room())
	case t.Valid():
		target = kindConn + "/" + url.PathEscape(t.Conn())
	default:
		return nil, ErrNoTarget
	}
	var typ string
	switch m.Type {
	case wsgateway.MessageText:
		typ = typeText
	case wsgateway.MessageBinary:
		typ = typeBinary
	default:
		return nil, fmt.Errorf("natsbroker: message type %v is neither text nor binary; use wsgateway.MessageText or MessageBinary", m.Type)
	}
	h := nats.Header{
		headerNode:   {url.PathEscape(m.Node)},
		headerTarget: {target},
		headerType:   {typ},
	}
	if ex := m.Target.ExceptConn(); ex != "" {
		h[headerExcept] = []string{url.PathEscape(ex)}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: m.Data}, nil
}

// decode turns a NATS message that encode made back into a BrokerMessage.
// The message's body becomes the BrokerMessage's Data, not copied: nats.go
// hands each message a body of its own.
func decode(msg *nats.Msg) (wsgateway.BrokerMessage, error) {
	node, err := unescape(msg.Header, headerNode)
	if err != nil {
		return wsgateway.BrokerMessage{}, err
	}
	raw := msg.Header.Get(headerTarget)
	kind, name, _ := strings.Cut(raw, "/")
	if name, err = url.PathUnescape(name); err != nil {
		return wsgateway.BrokerMessage{}, fmt.Errorf("%w: %s header %q: %w", errNotHubMessage, headerTarget, raw, err)
	}
	var t wsgateway.Target
	switch {
	case raw == kindAll:
		t = wsgateway.ToAll()
	case kind == kindRoom:
		t = wsgateway.ToRoom(name)
	case kind == kindConn:
		t = wsgateway.ToConn(name)
	default:
		return wsgateway.BrokerMessage{}, fmt.Errorf("%w: %s header %q is none of all, room/<name>, conn/<id>", errNotHubMessage, headerTarget, raw)
	}
	except, err := unescape(msg.Header, headerExcept)
	if err != nil {
		return wsgateway.BrokerMessage{}, err
	}
	if except != "" {
		t = t.Except(except)
	}
	m := wsgateway.BrokerMessage{Node: node, Target: t, Data: msg.Data}
	switch raw := msg.Header.Get(headerType); raw {
	case typeText:
		m.Type = wsgateway.MessageText
	case typeBinary:
		m.Type = wsgateway.MessageBinary
	default:
		return wsgateway.BrokerMessage{}, fmt.Errorf("%w: %s header %q is neither text nor binary", errNotHubMessage, headerType, raw)
	}
	return m, nil
}

// unescape returns the path-unescaped value of header key, or "".
func unescape(h nats.Header, key string) (string, error) {
	v, err := url.PathUnescape(h.Get(key))
	if err != nil {
		return "", fmt.Errorf("%w: %s header: %w", errNotHubMessage, key, err)
	}
	return v, nil
}
