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
