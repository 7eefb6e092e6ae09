package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// HeaderRequestID is the header that carries a request id in both directions.
const HeaderRequestID = "X-Request-Id"

// MaxRequestIDLength bounds an incoming request id; longer ids are replaced.
const MaxRequestIDLength = 128

type requestIDKey struct{}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID returns a copy of ctx that carries id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// NewRequestID returns a fresh random request id of 32 hex characters.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}

// ValidRequestID reports whether id may be kept as a request id: 1 to
// MaxRequestIDLength characters from [A-Za-z0-9._:-], so it is safe in
// logs and headers.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// EnsureRequestID makes sure r carries a request id and that the response
// will echo it. It keeps an id already in r's context, else a valid incoming
// X-Request-Id header, else generates one. It returns the request to use
// from here on and the id.
func EnsureRequestID(w http.ResponseWriter, r *http.Request) (*http.Request, string) {
	if id := RequestID(r.Context()); id != "" {
		return r, id
	}
	id := r.Header.Get(HeaderRequestID)
	if !ValidRequestID(id) {
		id = NewRequestID()
	}
	w.Header().Set(HeaderRequestID, id)
	return r.WithContext(WithRequestID(r.Context(), id)), id
}

// RequestIDMiddleware gives every request a request id (see EnsureRequestID)
// and sets it on the response before next runs, so it is on every response,
// the 101 of a WebSocket upgrade included.
func RequestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, _ = EnsureRequestID(w, r)
		next.ServeHTTP(w, r)
	})
}
