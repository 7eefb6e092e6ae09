package wsgateway

import (
	"bufio"
	"net"
	"net/http"
)

// hijackCapture keeps the raw connection that coder/websocket hijacks, so
// the server can always end a connection at once: coder/websocket's own
// close cannot be cut short once its handshake has started.
type hijackCapture struct {
	http.ResponseWriter
	conn net.Conn
}

// Hijack hijacks the underlying ResponseWriter and remembers the conn.
func (h *hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = c
	return c, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (h *hijackCapture) Unwrap() http.ResponseWriter { return h.ResponseWriter }
