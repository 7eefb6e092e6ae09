package msregistry

import (
	"context"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
)

// HandleFrame is the entry point of frame transports such as the WebSocket
// adapter. It decodes one frame from data, dispatches it and appends the
// encoded reply to dst.
//
// A message gets a response frame, or an error frame when it fails; ok is
// true. An event runs its handlers before HandleFrame returns and gets no
// reply (ok is false) unless it cannot be dispatched: a malformed frame, an
// unknown pattern or an undecodable payload always gets an error frame, so
// nothing is dropped silently. The id of the frame is echoed whenever it
// could be read. transport names the transport in handler contexts.
func (r *Registry) HandleFrame(ctx context.Context, transport string, data []byte, dst []byte) (reply []byte, ok bool) {
	d := getFrameDecoder()
	defer putFrameDecoder(d)
	var w wireFrame
	if err := d.decode(data, &w); err != nil {
		r.log.Debug("invalid frame", zap.String("transport", transport), zap.String("request_id", identity.RequestID(ctx)), zap.Error(err))
		return AppendError(dst, string(w.pattern), w.id, err), true
	}
	t := r.table.Load()
	if w.kind == KindEvent {
		hs := t.events[string(w.pattern)]
		if len(hs) == 0 {
			return AppendError(dst, string(w.pattern), w.id, r.notFound(KindEvent, transport, string(w.pattern))), true
		}
		if err := r.Emit(ctx, Incoming{Transport: transport, Pattern: hs[0].pattern, Payload: w.payload, Metadata: w.metadata}); err != nil {
			return AppendError(dst, hs[0].pattern, w.id, asError(err)), true
		}
		return dst, false
	}
	e := t.messages[string(w.pattern)]
	if e == nil {
		return AppendError(dst, string(w.pattern), w.id, r.notFound(KindMessage, transport, string(w.pattern))), true
	}
	start := len(dst)
	dst = appendResponseHead(dst, e.pattern, w.id)
	enc := r.getEncoder()
	out, err := r.invoke(ctx, e, transport, w.payload, w.metadata, enc, dst)
	r.putEncoder(enc)
	if err != nil {
		return AppendError(out[:start], e.pattern, w.id, asError(err)), true
	}
	return appendResponseTail(out), true
}
