package wsgateway

import (
	"errors"
	"sync"

	"github.com/fxforge/fxforge/msregistry"
)

// Transport is the transport name registry handlers see for frames that
// arrive over a WebSocket.
const Transport = "websocket"

// replyHeadroom is what a reply frame adds around its payload, so the reply
// buffer is allocated once.
const replyHeadroom = 128

// HandleMessage feeds one WebSocket message into reg and returns the reply
// frame, or nil for an event. It is the building block of Serve, for
// gateways that run their own read loop. The handler's context is ctx, so
// the handler reaches the connection with ConnFrom.
func HandleMessage(ctx *Context, reg *msregistry.Registry, data []byte) []byte {
	reply, ok := reg.HandleFrame(ctx, Transport, data, make([]byte, 0, len(data)+replyHeadroom))
	if !ok {
		return nil
	}
	return reply
}

// Serve reads frames from conn and dispatches them to reg until the
// connection ends, writing each reply in the frame type of its request.
// Every frame is handled on a goroutine of its own, up to
// Config.MaxConcurrency at once per connection; when that many are in
// progress Serve stops reading, which pushes back on the peer instead of
// queueing without bound. So a fast request pipelined behind a slow one is
// answered first; every reply carries its request's id. A frame that
// arrives while the server shuts down, or over the message rate, is
// answered with an error frame. Serve returns nil when the connection
// closes normally, once its in-flight requests have replied.
func Serve(ctx *Context, conn *Conn, reg *msregistry.Registry) error {
	slots := make(chan struct{}, conn.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	// done ends a request once its reply is written (or dropped), or at
	// once when it has none.
	done := func() {
		<-slots
		conn.release()
		wg.Done()
	}
	for {
		typ, data, err := conn.Read(ctx)
		switch {
		case errors.Is(err, ErrMessageDropped):
			_ = conn.Write(typ, refusal(data, msregistry.CodeRateLimited, "message rate exceeded; slow down"))
			continue
		case err != nil:
			if conn.isNormalEnd(err) {
				return nil
			}
			return err
		}
		if !conn.acquire() {
			_ = conn.Write(typ, refusal(data, msregistry.CodeUnavailable, "server is shutting down; reconnect later"))
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			if reply := HandleMessage(ctx, reg, data); reply != nil {
				conn.writeReply(typ, reply, done)
			} else {
				done()
			}
		}()
	}
}

// refusal is the error frame for a request that was not processed; it
// echoes the request's pattern and id when the frame can be read.
func refusal(data []byte, code, message string) []byte {
	f, _ := msregistry.DecodeFrame(data)
	return msregistry.AppendError(nil, f.Pattern, f.ID, msregistry.NewError(code, message))
}
