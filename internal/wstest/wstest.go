// Package wstest has the WebSocket client steps the project's tests share:
// a dial and a read that fail the test, rather than hang it, when the
// server does not answer within Timeout.
package wstest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Timeout bounds each Dial and Read.
const Timeout = 5 * time.Second

// Dial opens a WebSocket to url and closes it when the test ends. An
// http:// or https:// URL is dialled as ws:// or wss://.
func Dial(t testing.TB, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response) {
	t.Helper()
	if rest, ok := strings.CutPrefix(url, "http"); ok {
		url = "ws" + rest
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, resp
}

// Read reads the next message, of either type, and returns its contents.
func Read(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	_, data := read(t, c)
	return data
}

// ReadText reads the next message and fails unless it is a text message.
func ReadText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	typ, data := read(t, c)
	if typ != websocket.MessageText {
		t.Fatalf("read %v message, want text", typ)
	}
	return data
}

func read(t testing.TB, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(data)
}
