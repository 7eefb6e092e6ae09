package identity

import (
	"errors"
	"net/http"
)

// Sentinel errors returned by authenticators and guards. Error maps them to
// HTTP status codes: ErrNoCredentials and ErrInvalidCredentials to 401,
// ErrForbidden to 403.
var (
	// ErrNoCredentials means the request carried no credentials; the caller
	// is anonymous. Guards decide whether that is allowed.
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidCredentials means credentials were present but rejected.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrForbidden means the caller is known but not allowed.
	ErrForbidden = errors.New("forbidden")
)

// StatusCode returns the HTTP status that err should be answered with:
// 401 for missing or invalid credentials, 403 for ErrForbidden and 500
// otherwise.
func StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrInvalidCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

// refusal is an error whose message is written for the caller and which
// matches one of the sentinels with errors.Is.
type refusal struct {
	kind  error
	msg   string
	cause error
}

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// refuse returns an error matching kind whose message is msg.
func refuse(kind error, msg string) error { return &refusal{kind: kind, msg: msg} }
