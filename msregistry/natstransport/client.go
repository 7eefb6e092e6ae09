package natstransport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/fxforge/fxforge/msregistry"
)

// Client calls message patterns and emits events over NATS in NestJS's wire
// format, so it reaches a Server as well as a NestJS microservice. It
// implements msregistry.Client and is safe for concurrent use.
type Client struct {
	nc  *nats.Conn
	cfg clientConfig
}

var _ msregistry.Client = (*Client)(nil)

// NewClient returns a Client that sends through nc.
func NewClient(nc *nats.Conn, opts ...ClientOption) *Client {
	cfg := clientConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	return &Client{nc: nc, cfg: cfg}
}

// Send publishes payload, as JSON, to pattern's subject (see Subject) with a
// reply inbox, and returns the response of the first reply. The metadata of
// ctx (msregistry.WithMetadata) and its request id travel as NATS headers,
// the identity too with ForwardIdentity.
//
// Send waits until ctx's deadline, or the client's Timeout when ctx has
// none. Its errors:
//   - *RemoteError when the handler answered with an error; errors.As also
//     finds the *msregistry.Error with the remote code and message;
//   - one wrapping ErrNoResponders when nothing serves the subject;
//   - one wrapping ErrTimeout (and context.DeadlineExceeded) when no reply
//     came in time, and ctx's own error when ctx was cancelled.
func (c *Client) Send(ctx context.Context, pattern string, payload any) (json.RawMessage, error) {
	subject, body, err := c.packet(pattern, payload, nuid.Next())
	if err != nil {
		return nil, err
	}
	h, err := outgoingHeader(ctx, c.cfg.forwardIdentity)
	if err != nil {
		return nil, err
	}
	msg, err := c.request(ctx, &nats.Msg{Subject: subject, Data: body, Header: h})
	if err != nil {
		return nil, c.requestError(ctx, pattern, subject, err)
	}
	r, err := decodeReply(msg.Data)
	if err != nil {
		return nil, fmt.Errorf("natstransport: send %q: %w (starts %q); is something other than a NestJS-style service answering on subject %q?", pattern, err, prefix(msg.Data), subject)
	}
	if r.err != nil {
		return nil, &RemoteError{Pattern: pattern, Err: remoteError(r.err), Raw: r.err}
	}
	if r.response == nil {
		return json.RawMessage("null"), nil
	}
	return r.response, nil
}

// Emit publishes payload, as JSON, to pattern's subject as an event, with
// the same headers as Send. It returns once the event is handed to the
// connection (buffered while it reconnects): over NATS a sender does not
// learn whether a handler ran; servers log events they cannot handle.
func (c *Client) Emit(ctx context.Context, pattern string, payload any) error {
	subject, body, err := c.packet(pattern, payload, "")
	if err != nil {
		return err
	}
	h, err := outgoingHeader(ctx, c.cfg.forwardIdentity)
	if err != nil {
		return err
	}
	if err := c.nc.PublishMsg(&nats.Msg{Subject: subject, Data: body, Header: h}); err != nil {
		return fmt.Errorf("natstransport: emit %q: %w", pattern, err)
	}
	return nil
}

// request sends req and waits for the reply until ctx's deadline, or for
// the client's Timeout when ctx has none.
func (c *Client) request(ctx context.Context, req *nats.Msg) (*nats.Msg, error) {
	if _, ok := ctx.Deadline(); ok {
		return c.nc.RequestMsgWithContext(ctx, req)
	}
	if ctx.Done() == nil { // never cancelled: nats.go's own timer does
		return c.nc.RequestMsg(req, c.cfg.timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	return c.nc.RequestMsgWithContext(ctx, req)
}

// packet returns the subject and the encoded packet of a call; id is empty
// for an event.
func (c *Client) packet(pattern string, payload any, id string) (subject string, body []byte, err error) {
	if pattern == "" {
		return "", nil, fmt.Errorf("natstransport: empty pattern; name the pattern to call: %w", msregistry.ErrEmptyPattern)
	}
	subject, err = Subject(pattern)
	if err != nil {
		return "", nil, err
	}
	pj, err := patternJSON(pattern)
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return "", nil, fmt.Errorf("natstransport: encode payload for %q: %w", pattern, err)
	}
	return subject, appendRequest(make([]byte, 0, len(pj)+len(data)+64), pj, data, id), nil
}

// requestError wraps a failed request in the error Send documents.
func (c *Client) requestError(ctx context.Context, pattern, subject string, err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("natstransport: send %q: %w on subject %q; start a service that serves the pattern, or check its spelling", pattern, err, subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("%w: pattern %q on subject %q; the service may be overloaded or gone, or raise the context deadline or natstransport.Timeout (%w)", ErrTimeout, pattern, subject, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return fmt.Errorf("natstransport: send %q: %w", pattern, ctx.Err())
	default:
		return fmt.Errorf("natstransport: send %q on subject %q: %w", pattern, subject, err)
	}
}
