package msregistry

import "context"

// Kind says whether a frame or call is a message (request/response) or an
// event (fire-and-forget).
type Kind uint8

const (
	// KindMessage is a request that expects one reply.
	KindMessage Kind = iota + 1
	// KindEvent is a notification that gets no reply.
	KindEvent
)

// String returns "message", "event" or "unknown".
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindEvent:
		return "event"
	default:
		return "unknown"
	}
}

// Metadata holds the string key/value pairs that travel beside a payload,
// like headers. A nil Metadata is empty.
type Metadata map[string]string

// Get returns the value for key, or "".
func (m Metadata) Get(key string) string { return m[key] }

// Call describes the call a handler is serving. CallFrom returns it from the
// handler's context.
type Call struct {
	// Transport names the transport the call came through: "local" for a
	// LocalClient, "websocket" for the WebSocket adapter, and so on.
	Transport string
	// Pattern is the pattern the handler was registered for.
	Pattern string
	// Kind is KindMessage or KindEvent.
	Kind Kind
	// Metadata is the metadata sent with the call; it may be nil. Handlers
	// must not modify it.
	Metadata Metadata
}

type callKey struct{}

// callCtx is the handler context: one allocation that answers CallFrom and
// delegates every other lookup, cancellation and deadline to its parent, so
// the request id, identity and resolver of the incoming context stay visible.
type callCtx struct {
	context.Context
	call Call
}

func (c *callCtx) Value(key any) any {
	if _, ok := key.(callKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// CallFrom returns the call that the handler context ctx serves: transport,
// pattern, kind and metadata. ok is false outside a handler. The request id
// and identity of a call are read as usual, with identity.RequestID(ctx) and
// identity.FromContext(ctx), and typed values with Resolve.
func CallFrom(ctx context.Context) (Call, bool) {
	c, ok := ctx.Value(callKey{}).(*callCtx)
	if !ok {
		return Call{}, false
	}
	return c.call, true
}
