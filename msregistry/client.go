package msregistry

import (
	"context"
	"encoding/json"
	"fmt"
)

// Client sends messages and emits events to a registry, wherever it runs.
// NewLocalClient returns the in-process implementation; network transports
// (NATS first) implement Client in subpackages. Errors from the remote
// handler come back as *Error, whatever the transport.
type Client interface {
	// Send encodes payload as JSON, calls the message handler for pattern
	// and returns its JSON result.
	Send(ctx context.Context, pattern string, payload any) (json.RawMessage, error)
	// Emit encodes payload as JSON and runs the event handlers for pattern.
	// Handler errors are not returned; an unknown pattern or a payload that
	// does not decode is.
	Emit(ctx context.Context, pattern string, payload any) error
}

// Send calls the message handler for pattern through c and decodes its
// JSON result into R.
func Send[R any](ctx context.Context, c Client, pattern string, payload any) (R, error) {
	var out R
	raw, err := c.Send(ctx, pattern, payload)
	if err != nil {
		return out, err
	}
	if isNull(raw) {
		return out, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("msregistry: decode result of %q: %w", pattern, err)
	}
	return out, nil
}

type outgoingMetadataKey struct{}

// WithMetadata returns a copy of ctx whose Client calls send md as metadata.
// It sets outgoing metadata only: a handler reads the metadata it received
// with CallFrom.
func WithMetadata(ctx context.Context, md Metadata) context.Context {
	return context.WithValue(ctx, outgoingMetadataKey{}, md)
}

// OutgoingMetadata returns the metadata set on ctx with WithMetadata, or
// nil. Client implementations send it with every call.
func OutgoingMetadata(ctx context.Context) Metadata {
	md, _ := ctx.Value(outgoingMetadataKey{}).(Metadata)
	return md
}

// TransportLocal is the transport name of calls made through a LocalClient.
const TransportLocal = "local"

type localClient struct{ reg *Registry }

// NewLocalClient returns a Client that calls reg in-process. Payloads and
// results still go through JSON, and calls through Registry.Call and
// Registry.Emit, so handlers behave exactly as behind a network transport.
// Handler contexts name the transport TransportLocal and carry the request
// id, identity and resolver of the caller's context.
func NewLocalClient(reg *Registry) Client { return localClient{reg: reg} }

func (c localClient) Send(ctx context.Context, pattern string, payload any) (json.RawMessage, error) {
	raw, err := marshalPayload(pattern, payload)
	if err != nil {
		return nil, err
	}
	return c.reg.Call(ctx, Incoming{Transport: TransportLocal, Pattern: pattern, Payload: raw, Metadata: OutgoingMetadata(ctx)})
}

func (c localClient) Emit(ctx context.Context, pattern string, payload any) error {
	raw, err := marshalPayload(pattern, payload)
	if err != nil {
		return err
	}
	return c.reg.Emit(ctx, Incoming{Transport: TransportLocal, Pattern: pattern, Payload: raw, Metadata: OutgoingMetadata(ctx)})
}

func marshalPayload(pattern string, payload any) (json.RawMessage, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("msregistry: encode payload for %q: %w", pattern, err)
	}
	return raw, nil
}
