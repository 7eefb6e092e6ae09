package msregistry

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxforge/fxforge/identity"
)

// PatternOption configures one pattern registered with Message or Event.
type PatternOption func(*patternOptions)

type patternOptions struct {
	guards []identity.Guard
}

func newPatternOptions(opts []PatternOption) patternOptions {
	var po patternOptions
	for _, o := range opts {
		o(&po)
	}
	return po
}

// WithGuards makes the pattern check its caller before the handler runs, as
// NestJS's @UseGuards does: each guard, in order, gets the handler context
// and the caller's identity (identity.FromContext; nil for an anonymous
// caller), before the payload is even decoded. A guard that refuses with
// identity.ErrNoCredentials or identity.ErrInvalidCredentials answers
// CodeUnauthorized, one that refuses with identity.ErrForbidden answers
// CodeForbidden, each with the guard's message; any other guard error is
// CodeInternal and is logged. For an event, a refusal is returned by Emit
// (and sent as an error frame), and the handler is skipped.
//
//	msregistry.Message(reg, "admin.stats", stats, msregistry.WithGuards(identity.AnyRole("admin")))
func WithGuards(guards ...identity.Guard) PatternOption {
	return func(o *patternOptions) { o.guards = append(o.guards, guards...) }
}

// allow runs the guards against the caller of ctx.
func (o *patternOptions) allow(ctx context.Context) error {
	if len(o.guards) == 0 {
		return nil
	}
	id, _ := identity.FromContext(ctx)
	for _, g := range o.guards {
		if err := g.Allow(ctx, id); err != nil {
			return guardError(err)
		}
	}
	return nil
}

// guardError turns a guard's refusal into the *Error the caller sees; any
// other error stays an internal one.
func guardError(err error) error {
	switch {
	case errors.Is(err, identity.ErrNoCredentials), errors.Is(err, identity.ErrInvalidCredentials):
		return NewError(CodeUnauthorized, err.Error())
	case errors.Is(err, identity.ErrForbidden):
		return NewError(CodeForbidden, err.Error())
	}
	return fmt.Errorf("msregistry: guard failed: %w", err)
}
