package wsgateway

import (
	"sync"

	"github.com/fxforge/fxforge/msregistry"
)

// Transport is the transport name registry handlers see for frames that
// arrive over a WebSocket.
const Transport = "websocket"

// HandleMessage feeds one WebSocket message into reg and returns the reply
// frame, or nil for an event. It is the building block of Serve, for
// gateways that run their own read loop.
func HandleMessage(ctx *Context, reg *msregistry.Registry, data []byte) []byte {
	reply, ok := reg.HandleFrame(ctx, Transport, data, nil)
	if !ok {
		return nil
	}
	return reply
}

// Serve reads frames from conn and dispatches them to reg until the
// connection ends, writing each reply in the frame type of its request.
// Frames of one connection are handled concurrently, up to
// Config.MaxConcurrency at once; when that many are running, Serve stops
// reading, which pushes back on the peer. Every reply carries its request's
// id. A frame that arrives while the server shuts down, or over the message
// rate, is answered with an error frame. Serve returns nil when the
// connection closes normally and waits for its in-flight handlers first.
func Serve(ctx *Context, conn *Conn, reg *msregistry.Registry) error {
	sem := make(chan struct{}, conn.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		typ, data, err := conn.Read(ctx)
		switch {
		case err == ErrRateLimited:
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
		go func() {
			defer func() {
				<-sem
				conn.release()
				wg.Done()
			}()
			if reply := HandleMessage(ctx, reg, data); reply != nil {
				_ = conn.Write(typ, reply)
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
