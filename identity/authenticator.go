package identity

import (
	"context"
	"net/http"
	"strings"
)

// Authenticator turns a request into an identity. It returns
// ErrNoCredentials (possibly wrapped) for an anonymous request and
// ErrInvalidCredentials for credentials it rejects; any other error is
// answered with 500.
type Authenticator interface {
	Authenticate(r *http.Request) (*Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Identity, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Identity, error) { return f(r) }

// Anonymous returns an Authenticator for which every caller is anonymous,
// whatever the request carries. Give it to an endpoint that must not
// authenticate, such as a public gateway (wsgateway.Config.Authenticator) in
// an app whose other endpoints use a real one: no header can get it refused.
func Anonymous() Authenticator {
	return AuthenticatorFunc(func(*http.Request) (*Identity, error) {
		return nil, refuse(ErrNoCredentials, "anonymous endpoint")
	})
}

// VerifyFunc checks a bearer token and returns its identity. It returns an
// error for a token it rejects; the client is told "invalid credentials"
// and the error stays in the chain (errors.Is, errors.As) for logs.
type VerifyFunc func(ctx context.Context, token string) (*Identity, error)

// BearerOption configures Bearer.
type BearerOption func(*bearer)

// TokenFromQuery lets browsers, which cannot set headers on a WebSocket,
// pass the token in the query parameter name (for example "access_token").
// Use it only over TLS: URLs end up in proxy logs.
func TokenFromQuery(name string) BearerOption {
	return func(b *bearer) { b.query = name }
}

// TokenFromSubprotocol lets browsers pass the token as a WebSocket
// subprotocol: new WebSocket(url, [marker, token]). The entry after marker is
// the token; the server negotiates marker, never the token, as the
// subprotocol.
func TokenFromSubprotocol(marker string) BearerOption {
	return func(b *bearer) { b.subprotocol = marker }
}

// SubprotocolAuthenticator is implemented by authenticators that take a
// token from the Sec-WebSocket-Protocol header; the upgrade handler
// negotiates the returned marker when the request offered it.
type SubprotocolAuthenticator interface {
	AuthSubprotocol() string
}

type bearer struct {
	verify      VerifyFunc
	query       string
	subprotocol string
}

// Bearer returns an Authenticator that reads "Authorization: Bearer <token>"
// (and, when opted in, a query parameter or a subprotocol) and checks the
// token with verify.
func Bearer(verify VerifyFunc, opts ...BearerOption) Authenticator {
	b := &bearer{verify: verify}
	for _, o := range opts {
		o(b)
	}
	return b
}

func (b *bearer) AuthSubprotocol() string { return b.subprotocol }

func (b *bearer) Authenticate(r *http.Request) (*Identity, error) {
	token, err := b.token(r)
	if err != nil {
		return nil, err
	}
	id, err := b.verify(r.Context(), token)
	if err != nil {
		// verify's error may say more than a client should hear: it stays in
		// the chain for logs, the message stays generic.
		return nil, &refusal{kind: ErrInvalidCredentials, msg: "invalid credentials", cause: err}
	}
	if id == nil {
		return nil, refuse(ErrInvalidCredentials, "invalid credentials: verify returned no identity")
	}
	return id, nil
}

func (b *bearer) token(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return "", refuse(ErrInvalidCredentials, `Authorization header is not "Bearer <token>"`)
		}
		return strings.TrimSpace(token), nil
	}
	if b.query != "" {
		if t := r.URL.Query().Get(b.query); t != "" {
			return t, nil
		}
	}
	if b.subprotocol != "" {
		if t := SubprotocolToken(r, b.subprotocol); t != "" {
			return t, nil
		}
	}
	return "", refuse(ErrNoCredentials, `no credentials: send "Authorization: Bearer <token>"`)
}

// SubprotocolToken returns the entry that follows marker in the request's
// Sec-WebSocket-Protocol list, or "".
func SubprotocolToken(r *http.Request, marker string) string {
	var list []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			list = append(list, strings.TrimSpace(p))
		}
	}
	for i := 0; i+1 < len(list); i++ {
		if list[i] == marker {
			return list[i+1]
		}
	}
	return ""
}
