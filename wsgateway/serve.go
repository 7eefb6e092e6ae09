package wsgateway

import (
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
// gateways that run their own read loop.
func HandleMessage(ctx *Context, reg *msregistry.Registry, data []byte) []byte {
	reply, ok := reg.HandleFrame(ctx, Transport, data, make([]byte, 0, len(data)+replyHeadroom))
	if !ok {
		return nil
	}
	return reply
}

// Serve reads frames from conn and dispatches them to reg until the
// connection ends, writing each reply in the frame type of its request.
// Frames of one connection are handled concurrently, up to
// Config.MaxConcurrency at once; a request holds its place until its reply
// is written, so when that many are in progress Serve stops reading, which
// pushes back on the peer instead of queueing without bound. Every reply
// carries its request's id. A frame that arrives while the server shuts
// down, or over the message rate, is answered with an error frame. Serve
// returns nil when the connection closes normally, after its in-flight
// requests have replied.
func Serve(ctx *Context, conn *Conn, reg *msregistry.Registry) error {
	sem := make(chan struct{}, conn.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	// done runs once a request's reply is on the wire (or dropped).
	done := func() {
		<-sem
		conn.release()
		wg.Done()
	}
	for {
		typ, data, err := conn.Read(ctx)
		switch {
		case err == ErrRateLimited: // not wrapped: this message only
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
		sem <- struct{}{}
		wg.Add(1)
		if cap(sem) == 1 {
			// One at a time: no goroutine needed, and the read loop waits
			// for the reply's write, which is the same back pressure.
			handle(ctx, conn, reg, typ, data, done)
			continue
		}
		go handle(ctx, conn, reg, typ, data, done)
	}
}

// handle dispatches one frame and writes its reply; done runs once the
// reply is written, or at once when there is none.
func handle(ctx *Context, conn *Conn, reg *msregistry.Registry, typ MessageType, data []byte, done func()) {
	reply := HandleMessage(ctx, reg, data)
	if reply == nil || conn.writeReply(typ, reply, done) != nil {
		done()
	}
}

// refusal is the error frame for a request that was not processed; it
// echoes the request's pattern and id when the frame can be read.
func refusal(data []byte, code, message string) []byte {
	f, _ := msregistry.DecodeFrame(data)
	return msregistry.AppendError(nil, f.Pattern, f.ID, msregistry.NewError(code, message))
}
