package identity

import (
	"context"
	"slices"
)

// Identity is an authenticated caller.
type Identity struct {
	// Subject identifies the caller, for example a user id.
	Subject string `json:"subject"`
	// Roles are the caller's roles, checked by AnyRole.
	Roles []string `json:"roles,omitempty"`
	// Claims holds any further attributes, for example the claims of a token.
	Claims map[string]any `json:"claims,omitempty"`
}

// HasRole reports whether the identity has role. A nil identity has none.
func (id *Identity) HasRole(role string) bool {
	return id != nil && slices.Contains(id.Roles, role)
}

type identityKey struct{}

// WithIdentity returns a copy of ctx that carries id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity carried by ctx; ok is false for an
// anonymous caller.
func FromContext(ctx context.Context) (id *Identity, ok bool) {
	id, _ = ctx.Value(identityKey{}).(*Identity)
	return id, id != nil
}
