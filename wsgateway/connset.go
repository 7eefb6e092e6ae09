package wsgateway

import "sync"

// connSet is the set of live connections of one Server.
type connSet struct {
	mu    sync.Mutex
	conns map[*Conn]struct{}
}

func (h *connSet) add(c *Conn) {
	h.mu.Lock()
	if h.conns == nil {
		h.conns = make(map[*Conn]struct{})
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *connSet) remove(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *connSet) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// snapshot returns the live connections at this moment.
func (h *connSet) snapshot() []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}
