package identity

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is the JSON body of every refusal fxforge writes.
type ErrorBody struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	RequestID  string `json:"requestId,omitempty"`
}

// WriteError writes a JSON ErrorBody with status and message, and the
// request id carried by r's context.
func WriteError(w http.ResponseWriter, r *http.Request, status int, message string) {
	body := ErrorBody{
		StatusCode: status,
		Error:      http.StatusText(status),
		Message:    message,
		RequestID:  RequestID(r.Context()),
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
