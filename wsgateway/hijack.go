package wsgateway

import (
	"bufio"
	"net"
	"net/http"
)

// acceptWriter sits between coder/websocket's Accept and the real
// ResponseWriter. It keeps the raw connection Accept hijacks, so the server
// can always end a connection at once (coder/websocket's own close cannot
// be cut short once its handshake has started), and it holds back a
// refusal that Accept writes, so the server can answer with its own JSON
// body instead.
type acceptWriter struct {
	http.ResponseWriter
	conn    net.Conn
	refused int // the status Accept refused with, or 0
}

// Hijack hijacks the underlying ResponseWriter and remembers the conn.
func (a *acceptWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(a.ResponseWriter).Hijack()
	a.conn = c
	return c, rw, err
}

// WriteHeader passes the 101 through and holds back any other status.
func (a *acceptWriter) WriteHeader(code int) {
	if code == http.StatusSwitchingProtocols {
		a.ResponseWriter.WriteHeader(code)
		return
	}
	a.refused = code
}

// Write discards the body of a refusal.
func (a *acceptWriter) Write(p []byte) (int, error) {
	if a.refused == 0 {
		a.refused = http.StatusBadRequest
	}
	return len(p), nil
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (a *acceptWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }
