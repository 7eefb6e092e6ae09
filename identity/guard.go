package identity

import (
	"context"
	"strings"
)

// Guard decides whether a caller may proceed. id is nil for an anonymous
// caller. A guard returns ErrNoCredentials (401) or ErrForbidden (403),
// possibly wrapped, to refuse. The same guards protect HTTP handlers
// (Middleware, fxforge.WithAuth), WebSocket upgrades
// (wsgateway.Config.Guards) and registry patterns (msregistry.WithGuards,
// where a refusal is an "unauthorized" or "forbidden" error frame).
type Guard interface {
	Allow(ctx context.Context, id *Identity) error
}

// GuardFunc adapts a function to Guard.
type GuardFunc func(ctx context.Context, id *Identity) error

// Allow calls f(ctx, id).
func (f GuardFunc) Allow(ctx context.Context, id *Identity) error { return f(ctx, id) }

// Authenticated refuses anonymous callers with 401.
func Authenticated() Guard {
	return GuardFunc(func(_ context.Context, id *Identity) error {
		if id == nil {
			return refuse(ErrNoCredentials, "authentication required")
		}
		return nil
	})
}

// AnyRole lets through callers that have at least one of roles; anonymous
// callers get 401, others 403.
func AnyRole(roles ...string) Guard {
	return GuardFunc(func(_ context.Context, id *Identity) error {
		if id == nil {
			return refuse(ErrNoCredentials, "authentication required")
		}
		for _, r := range roles {
			if id.HasRole(r) {
				return nil
			}
		}
		return refuse(ErrForbidden, "requires one of the roles: "+strings.Join(roles, ", "))
	})
}
