package natstransport

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/identity"
	"github.com/fxforge/fxforge/msregistry"
)

// Transport is the transport name that handler contexts of calls served by
// a Server carry (msregistry.CallFrom(ctx).Transport).
const Transport = "nats"

// HeaderIdentity is the NATS header that carries the caller's identity, an
// identity.Identity as JSON. A Client sends it only with ForwardIdentity, and
// a Server reads it only with TrustIdentity: anyone who can publish on the
// subject can set it.
const HeaderIdentity = "Fxforge-Identity"

// reservedHeader reports whether a header has a meaning of its own and is
// never metadata.
func reservedHeader(key string) bool {
	return key == identity.HeaderRequestID || key == HeaderIdentity
}

// outgoingHeader returns the headers of a call made with ctx: the metadata
// set with msregistry.WithMetadata, the request id, and the identity when
// forward is set. It returns nil when there is nothing to send.
func outgoingHeader(ctx context.Context, forward bool) (nats.Header, error) {
	md := msregistry.OutgoingMetadata(ctx)
	rid := identity.RequestID(ctx)
	var id *identity.Identity
	if forward {
		id, _ = identity.FromContext(ctx)
	}
	if len(md) == 0 && rid == "" && id == nil {
		return nil, nil
	}
	h := make(nats.Header, len(md)+2)
	for k, v := range md {
		if err := checkHeader(k, v); err != nil {
			return nil, err
		}
		h[k] = []string{v}
	}
	if rid != "" {
		h[identity.HeaderRequestID] = []string{rid}
	}
	if id != nil {
		b, err := json.Marshal(id)
		if err != nil {
			return nil, fmt.Errorf("natstransport: encode the identity for header %s: %w", HeaderIdentity, err)
		}
		h[HeaderIdentity] = []string{string(b)}
	}
	return h, nil
}

// checkHeader refuses metadata that cannot travel as a NATS header.
func checkHeader(k, v string) error {
	switch {
	case reservedHeader(k):
		return fmt.Errorf("natstransport: metadata key %q is reserved; set the request id with identity.WithRequestID and the identity with natstransport.ForwardIdentity", k)
	case k == "" || strings.ContainsAny(k, ": \t\r\n"):
		return fmt.Errorf("natstransport: metadata key %q cannot be a NATS header name; use a non-empty key without spaces or colons", k)
	case strings.ContainsAny(v, "\r\n"):
		return fmt.Errorf("natstransport: metadata value of %q contains a line break, which a NATS header cannot carry", k)
	}
	return nil
}

// incomingContext returns the handler's context and metadata for a message
// with headers h and packet id: the request id (the caller's when valid,
// else the packet id when it is a valid one, else a fresh one), the identity
// when trust is set, and every other header as metadata (its first value).
func incomingContext(ctx context.Context, h nats.Header, id []byte, trust bool) (context.Context, msregistry.Metadata, *msregistry.Error) {
	rid := h.Get(identity.HeaderRequestID)
	if !identity.ValidRequestID(rid) {
		rid = packetRequestID(id)
	}
	ctx = identity.WithRequestID(ctx, rid)
	var md msregistry.Metadata
	for k, vs := range h {
		if reservedHeader(k) || len(vs) == 0 {
			continue
		}
		if md == nil {
			md = make(msregistry.Metadata, len(h))
		}
		md[k] = vs[0]
	}
	if raw := h.Get(HeaderIdentity); trust && raw != "" {
		var id identity.Identity
		if err := json.Unmarshal([]byte(raw), &id); err != nil || id.Subject == "" {
			return ctx, md, msregistry.NewError(msregistry.CodeInvalidFrame, "header "+HeaderIdentity+" must be an identity as JSON with a subject, e.g. {\"subject\":\"user-1\",\"roles\":[\"admin\"]}")
		}
		ctx = identity.WithIdentity(ctx, &id)
	}
	return ctx, md, nil
}

// packetRequestID returns the packet id as a request id when it is a JSON
// string that is a valid request id (NestJS and Client ids are), else a
// fresh request id.
func packetRequestID(id []byte) string {
	if len(id) > 2 && id[0] == '"' && id[len(id)-1] == '"' {
		if s := string(id[1 : len(id)-1]); identity.ValidRequestID(s) {
			return s
		}
	}
	return identity.NewRequestID()
}
