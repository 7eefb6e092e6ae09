// Package identity carries who is calling and which request it is: request
// ids, authenticated identities, authenticators, guards and the net/http
// middleware that applies them.
//
// Every response gets an X-Request-Id header: a valid incoming id is kept,
// anything else is replaced by a fresh one. Refusals are JSON bodies that
// carry the status code, a short error, a message and the request id:
//
//	{"statusCode":401,"error":"Unauthorized","message":"authentication required","requestId":"..."}
//
// A typical stack:
//
//	auth := identity.Bearer(verifyToken)
//	h := identity.RequestIDMiddleware(identity.Middleware(auth, identity.Authenticated())(app))
//
// Handlers read the request id with RequestID(ctx) and the identity with
// FromContext(ctx).
package identity
