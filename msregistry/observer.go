package msregistry

import "time"

// Observer is told about the calls a Registry dispatches, for metrics
// (fxforge/fxmetrics implements it with Prometheus). Its methods are called
// on the dispatching goroutines, concurrently, and must return quickly.
type Observer interface {
	// Handled is called once per call that reached a registered pattern,
	// after its handler (a message) or all of its handlers (an event)
	// returned. call.Pattern is the registered pattern, so it is one of a
	// bounded set. d is how long the call took: decoding the payload,
	// running the handlers and, for a message, encoding the result. err is
	// nil when the call succeeded; otherwise it is the first failure: for a
	// message the *Error the caller gets, for an event a payload that did
	// not decode or a handler's error or panic.
	Handled(call Call, d time.Duration, err error)

	// Unknown is called for a call whose pattern has no handler of its
	// kind. The pattern itself is not passed: it comes from the client, and
	// a metric label made of it would grow without bound.
	Unknown(kind Kind, transport string)
}

// WithObserver makes the registry tell obs about every call it dispatches.
// A nil obs leaves the registry unobserved, the default.
func WithObserver(obs Observer) Option {
	return func(r *Registry) {
		if obs != nil {
			r.obs = obs
		}
	}
}

// observe reports the call served by the handler context ctx, started at
// start, to the observer. It is deferred with a pointer to the call's
// result error, so it sees the error set by a recovered panic.
func (r *Registry) observe(ctx *callCtx, start time.Time, err *error) {
	r.obs.Handled(ctx.call, time.Since(start), *err)
}
