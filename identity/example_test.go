package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/fxforge/fxforge/identity"
)

// Example protects a handler with a bearer token and a role guard.
func Example() {
	verify := func(_ context.Context, token string) (*identity.Identity, error) {
		if token == "s3cret" {
			return &identity.Identity{Subject: "ada", Roles: []string{"admin"}}, nil
		}
		return nil, errors.New("unknown token")
	}
	admin := identity.Middleware(identity.Bearer(verify), identity.AnyRole("admin"))
	h := identity.RequestIDMiddleware(admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identity.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", id.Subject)
	})))

	req := httptest.NewRequest(http.MethodGet, "/admin", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	req = httptest.NewRequest(http.MethodGet, "/admin", nil)
	req.Header.Set(identity.HeaderRequestID, "req-7")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 hello ada
	// 401 {"statusCode":401,"error":"Unauthorized","message":"authentication required","requestId":"req-7"}
}
