package msregistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/internal/resolve"
)

// ErrDuplicatePattern is wrapped by the error Message returns for a message
// pattern that already has a handler.
var ErrDuplicatePattern = errors.New("duplicate message pattern")

// ErrEmptyPattern is wrapped by the error Message and Event return for an
// empty pattern.
var ErrEmptyPattern = errors.New("empty pattern")

// Registry maps message patterns to one request/response handler each and
// event patterns to any number of fire-and-forget handlers. Register
// handlers with Message and Event, usually at startup; dispatch with Call,
// Emit, HandleFrame or a Client. Dispatch takes no locks and is safe for
// concurrent use, also while handlers are being registered. The zero value
// is not usable; create registries with New.
type Registry struct {
	log      *zap.Logger
	resolver *Resolver
	obs      Observer // nil: unobserved

	mu    sync.Mutex // serialises registrations
	table atomic.Pointer[table]

	encoders sync.Pool // *encoder

	// A Subset is a view: root holds the handlers, match says which of
	// them the view serves, and the view's table holds those. The root
	// keeps its views, by key (their patterns), to refresh their tables on
	// every registration (under mu).
	root  *Registry
	match func(pattern string) bool
	key   string
	views map[string]*Registry
}

// table is replaced as a whole on every registration (copy on write), so
// dispatch reads it with one atomic load.
type table struct {
	messages map[string]*messageEntry
	events   map[string][]*eventEntry
}

// Option configures a Registry.
type Option func(*Registry)

// WithLogger makes the registry log handler failures, with pattern,
// transport and request id, to log. The default is zap.NewNop().
func WithLogger(log *zap.Logger) Option {
	return func(r *Registry) {
		if log != nil {
			r.log = log
		}
	}
}

// WithResolver puts res into every handler context whose incoming context
// carries no resolver, so handlers can Resolve from it.
func WithResolver(res *Resolver) Option {
	return func(r *Registry) { r.resolver = res }
}

// New returns an empty Registry.
func New(opts ...Option) *Registry {
	r := &Registry{log: zap.NewNop()}
	for _, o := range opts {
		o(r)
	}
	r.table.Store(&table{
		messages: map[string]*messageEntry{},
		events:   map[string][]*eventEntry{},
	})
	r.encoders.New = func() any { return newEncoder() }
	return r
}

// Patterns returns the registered message and event patterns, in no
// particular order.
func (r *Registry) Patterns() (messages, events []string) {
	t := r.table.Load()
	for p := range t.messages {
		messages = append(messages, p)
	}
	for p := range t.events {
		events = append(events, p)
	}
	return messages, events
}

func (r *Registry) addMessage(e *messageEntry) error {
	if e.pattern == "" {
		return fmt.Errorf("msregistry: register message handler: %w", ErrEmptyPattern)
	}
	if r.root != nil {
		if !r.match(e.pattern) {
			return fmt.Errorf("msregistry: register message handler for %q: %w", e.pattern, ErrOutsideSubset)
		}
		return r.root.addMessage(e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table.Load()
	if _, ok := old.messages[e.pattern]; ok {
		return fmt.Errorf("msregistry: register message handler for %q: %w", e.pattern, ErrDuplicatePattern)
	}
	t := &table{messages: make(map[string]*messageEntry, len(old.messages)+1), events: old.events}
	for k, v := range old.messages {
		t.messages[k] = v
	}
	t.messages[e.pattern] = e
	r.store(t)
	return nil
}

func (r *Registry) addEvent(e *eventEntry) error {
	if e.pattern == "" {
		return fmt.Errorf("msregistry: register event handler: %w", ErrEmptyPattern)
	}
	if r.root != nil {
		if !r.match(e.pattern) {
			return fmt.Errorf("msregistry: register event handler for %q: %w", e.pattern, ErrOutsideSubset)
		}
		return r.root.addEvent(e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table.Load()
	t := &table{messages: old.messages, events: make(map[string][]*eventEntry, len(old.events)+1)}
	for k, v := range old.events {
		t.events[k] = v
	}
	hs := old.events[e.pattern]
	// A fresh slice, so readers of the old table never see the append.
	t.events[e.pattern] = append(hs[:len(hs):len(hs)], e)
	r.store(t)
	return nil
}

// store publishes the root's new table, and its views' filtered ones. The
// caller holds r.mu.
func (r *Registry) store(t *table) {
	r.table.Store(t)
	for _, v := range r.views {
		v.table.Store(t.filter(v.match))
	}
}

// Incoming is one call as a transport received it.
type Incoming struct {
	// Transport names the transport, for example "websocket" or "local".
	Transport string
	// Pattern selects the handler.
	Pattern string
	// Payload is the JSON input of the handler. Empty or null decodes as the
	// zero value of the handler's input type.
	Payload json.RawMessage
	// Metadata travels to the handler context; it may be nil.
	Metadata Metadata
}

// Call runs the message handler for in.Pattern and returns its JSON-encoded
// result. Every error it returns is an *Error: CodeNotFound for an unknown
// pattern, CodeUnauthorized or CodeForbidden when a guard refused the
// caller, CodeInvalidPayload for a payload that does not decode or
// validate, the handler's own *Error, or CodeInternal for any other handler
// error or panic, which is logged in full.
func (r *Registry) Call(ctx context.Context, in Incoming) (json.RawMessage, error) {
	out, err := r.AppendCall(ctx, nil, in)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendCall is Call, appending the encoded result to dst: a transport that
// wraps the result in a reply of its own builds the reply in one buffer,
// with no copy of the result in between. On error it returns dst unchanged.
func (r *Registry) AppendCall(ctx context.Context, dst []byte, in Incoming) ([]byte, error) {
	e := r.table.Load().messages[in.Pattern]
	if e == nil {
		return dst, r.notFound(KindMessage, in.Transport, in.Pattern)
	}
	enc := r.getEncoder()
	out, err := r.invoke(ctx, e, in.Transport, in.Payload, in.Metadata, enc, dst)
	r.putEncoder(enc)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Emit runs every event handler registered for in.Pattern, one after the
// other in registration order. A handler's error or panic is logged and
// does not stop the others; Emit does not return it. Emit returns an *Error
// with CodeNotFound when no handler is registered for the pattern, and the
// first dispatch failure otherwise: CodeUnauthorized or CodeForbidden when a
// handler's guard refused the caller, CodeInvalidPayload when the payload
// did not decode or validate for a handler (that handler is skipped, the
// others run).
func (r *Registry) Emit(ctx context.Context, in Incoming) error {
	hs := r.table.Load().events[in.Pattern]
	if len(hs) == 0 {
		return r.notFound(KindEvent, in.Transport, in.Pattern)
	}
	cctx := r.handlerContext(ctx, in.Transport, hs[0].pattern, KindEvent, in.Metadata)
	var failure error
	if r.obs != nil {
		defer r.observe(cctx, time.Now(), &failure)
	}
	var first *Error
	for _, h := range hs {
		perr, err := r.runEvent(cctx, h, in.Payload)
		if perr != nil && first == nil {
			first = perr
		}
		if err != nil && failure == nil {
			failure = err
		}
	}
	if first != nil {
		return first
	}
	return nil
}

// runEvent runs one event handler, logging its failure. It returns the
// payload error when the payload did not decode, and in err any failure:
// that payload error, the handler's error or its panic.
func (r *Registry) runEvent(ctx context.Context, h *eventEntry, payload json.RawMessage) (perr *Error, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.logPanic(ctx, p)
			err = errInternal()
		}
	}()
	perr, err = h.fn(ctx, payload)
	if perr != nil {
		r.log.Debug("event not dispatched", r.fields(ctx, zap.Error(perr))...)
		return perr, perr
	}
	if err != nil {
		r.log.Error("event handler failed", r.fields(ctx, zap.Error(err))...)
	}
	return nil, err
}

// invoke runs the message handler e, appending its JSON result to dst. Any
// error it returns is an *Error fit for the client.
func (r *Registry) invoke(ctx context.Context, e *messageEntry, transport string, payload json.RawMessage, md Metadata, enc *encoder, dst []byte) (out []byte, err error) {
	cctx := r.handlerContext(ctx, transport, e.pattern, KindMessage, md)
	if r.obs != nil {
		defer r.observe(cctx, time.Now(), &err)
	}
	defer func() {
		if p := recover(); p != nil {
			r.logPanic(cctx, p)
			out, err = dst, errInternal()
		}
	}()
	out, err = e.fn(cctx, payload, enc, dst)
	if err != nil {
		return dst, r.clientError(cctx, err)
	}
	return out, nil
}

// clientError maps a handler error to what the client may see and logs it.
func (r *Registry) clientError(ctx context.Context, err error) *Error {
	if e := asError(err); e != nil {
		if e.Code == CodeInvalidPayload {
			r.log.Debug("payload did not decode", r.fields(ctx, zap.Error(err))...)
		} else {
			r.log.Debug("handler returned an error for the client", r.fields(ctx, zap.Error(err))...)
		}
		return e
	}
	r.log.Error("message handler failed", r.fields(ctx, zap.Error(err))...)
	return errInternal()
}

func (r *Registry) logPanic(ctx context.Context, p any) {
	r.log.Error("handler panicked", r.fields(ctx,
		zap.Any("panic", p),
		zap.ByteString("stack", debug.Stack()))...)
}

// fields returns the log fields that identify the call served by ctx.
func (r *Registry) fields(ctx context.Context, extra ...zap.Field) []zap.Field {
	fs := make([]zap.Field, 0, 4+len(extra))
	if c, ok := CallFrom(ctx); ok {
		fs = append(fs,
			zap.String("transport", c.Transport),
			zap.String("kind", c.Kind.String()),
			zap.String("pattern", c.Pattern))
	}
	fs = append(fs, zap.String("request_id", identity.RequestID(ctx)))
	return append(fs, extra...)
}

func (r *Registry) notFound(k Kind, transport, pattern string) *Error {
	if r.obs != nil {
		r.obs.Unknown(k, transport)
	}
	if pattern == "" {
		return NewError(CodeNotFound, "no "+k.String()+" handler for an empty pattern")
	}
	t := r.table.Load()
	switch {
	case k == KindMessage && len(t.events[pattern]) > 0:
		return NewError(CodeNotFound, fmt.Sprintf("no message handler for pattern %s; it is an event pattern, send it with kind \"event\"", quotePrefix(pattern)))
	case k == KindEvent && t.messages[pattern] != nil:
		return NewError(CodeNotFound, fmt.Sprintf("no event handler for pattern %s; it is a message pattern, send it with kind \"message\"", quotePrefix(pattern)))
	}
	return NewError(CodeNotFound, fmt.Sprintf("no %s handler for pattern %s", k, quotePrefix(pattern)))
}

// handlerContext builds the context a handler runs with.
func (r *Registry) handlerContext(ctx context.Context, transport, pattern string, k Kind, md Metadata) *callCtx {
	if r.resolver != nil && resolve.FromContext(ctx) == nil {
		ctx = resolve.WithResolver(ctx, r.resolver)
	}
	return &callCtx{Context: ctx, call: Call{Transport: transport, Pattern: pattern, Kind: k, Metadata: md}}
}

func (r *Registry) getEncoder() *encoder { return r.encoders.Get().(*encoder) }

// maxPooledBuffer bounds the buffers kept for reuse, so one huge reply does
// not pin its memory.
const maxPooledBuffer = 64 << 10

func (r *Registry) putEncoder(e *encoder) {
	e.w.buf = nil
	r.encoders.Put(e)
}
