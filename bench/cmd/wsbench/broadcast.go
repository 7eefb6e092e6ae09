package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// rawBroadcast is the fan-out baseline, with no fxforge code: it keeps its
// coder/websocket connections in a slice, and on "publish N SIZE" from one
// of them writes each message to every other connection in a loop, on the
// publisher's goroutine.
type rawBroadcast struct {
	mu    sync.RWMutex
	conns []*websocket.Conn
	seq   atomic.Uint64 // the last message's sequence number
}

func (b *rawBroadcast) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	b.mu.Lock()
	b.conns = append(b.conns, c)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.conns = slices.DeleteFunc(b.conns, func(o *websocket.Conn) bool { return o == c })
		b.mu.Unlock()
	}()

	ctx := context.Background()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		n, size, err := parsePublish(data)
		if err != nil {
			_ = c.Close(websocket.StatusPolicyViolation, badPublish)
			return
		}
		for range n {
			msg := tickFrame(b.seq.Add(1), size)
			b.mu.RLock()
			for _, o := range b.conns {
				if o != c {
					_ = o.Write(ctx, websocket.MessageText, msg)
				}
			}
			b.mu.RUnlock()
		}
	}
}
