package fxforge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

// frameReply is a reply frame as a client reads it.
type frameReply struct {
	Kind    string          `json:"kind"`
	Pattern string          `json:"pattern"`
	ID      json.RawMessage `json:"id"`
	Payload json.RawMessage `json:"payload"`
	Error   *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call sends a message frame on c and reads its reply.
func call(t *testing.T, c *websocket.Conn, pattern, payload string) frameReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if payload == "" {
		payload = "null"
	}
	frame := `{"kind":"message","pattern":"` + pattern + `","payload":` + payload + `,"metadata":{},"id":"t"}`
	if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("write %s: %v", pattern, err)
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read reply to %s: %v", pattern, err)
	}
	var r frameReply
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("reply %s: %v", data, err)
	}
	return r
}

// payloadString decodes a reply that must be a response with a string
// payload.
func payloadString(t *testing.T, r frameReply) string {
	t.Helper()
	if r.Kind != "response" {
		t.Fatalf("reply %+v (error %+v), want a response", r, r.Error)
	}
	var s string
	if err := json.Unmarshal(r.Payload, &s); err != nil {
		t.Fatalf("payload %s: %v", r.Payload, err)
	}
	return s
}

// dialWith dials url with headers and returns the connection, or the
// handshake's response and error.
func dialWith(url string, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1), &websocket.DialOptions{HTTPHeader: header})
}

// eventRecorder is an fxevent.Logger that keeps every event.
type eventRecorder struct{ events []fxevent.Event }

func (r *eventRecorder) LogEvent(e fxevent.Event) { r.events = append(r.events, e) }

// recordEvents returns an option that makes fx log to a recorder.
func recordEvents() (fx.Option, *eventRecorder) {
	rec := &eventRecorder{}
	return fx.WithLogger(func() fxevent.Logger { return rec }), rec
}
