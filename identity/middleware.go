package identity

import (
	"errors"
	"net/http"
)

// Check authenticates r with auth (which may be nil: everyone is anonymous)
// and runs guards in order. A request whose context already carries an
// identity (an outer middleware authenticated it) is not authenticated
// again. It returns the request carrying the identity, or the error that
// refuses it (see StatusCode).
func Check(r *http.Request, auth Authenticator, guards ...Guard) (*http.Request, error) {
	id, known := FromContext(r.Context())
	if auth != nil && !known {
		var err error
		id, err = auth.Authenticate(r)
		if err != nil && !errors.Is(err, ErrNoCredentials) {
			return r, err
		}
	}
	for _, g := range guards {
		if err := g.Allow(r.Context(), id); err != nil {
			return r, err
		}
	}
	if id != nil && !known {
		r = r.WithContext(WithIdentity(r.Context(), id))
	}
	return r, nil
}

// Middleware authenticates every request with auth and applies guards.
// A refusal is a JSON ErrorBody with 401, 403 or 500; next does not run.
// Put RequestIDMiddleware outside it so refusals carry the request id.
func Middleware(auth Authenticator, guards ...Guard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, err := Check(r, auth, guards...)
			if err != nil {
				Refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Refuse answers r with the JSON error body for err. Messages of 500s are
// not shown to the caller.
func Refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusCode(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "authentication failed"
	}
	WriteError(w, r, status, msg)
}
