package natstransport

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/fxforge/fxforge/msregistry"
)

// CodeRemote is the code of a remote error that names none: a plain
// string, or an object with neither code nor status. NestJS's own errors,
// {"status":"error","message":...}, get their status as the code, which is
// "error" too.
const CodeRemote = "error"

// ErrTimeout is wrapped by the error Send returns when no reply came before
// the deadline (the context's, else the client's Timeout). The error also
// wraps the context's error, so errors.Is(err, context.DeadlineExceeded)
// holds too.
var ErrTimeout = errors.New("natstransport: no reply before the deadline")

// ErrNoResponders is wrapped by the error Send returns when nothing serves
// the pattern's subject. It is nats.ErrNoResponders, so either works with
// errors.Is.
var ErrNoResponders = nats.ErrNoResponders

// RemoteError is the error Send returns when the remote handler answered
// with an error. errors.As finds both the *RemoteError and the
// *msregistry.Error it wraps, so code written for msregistry.Client works
// unchanged:
//
//	var rpcErr *msregistry.Error
//	if errors.As(err, &rpcErr) && rpcErr.Code == "bad_request" { ... }
type RemoteError struct {
	// Pattern is the pattern that was sent.
	Pattern string
	// Err carries the remote code and message. A NestJS RpcException thrown
	// with {code, message} arrives as exactly that.
	Err *msregistry.Error
	// Raw is the err value of the reply as it came, for fields beyond code
	// and message.
	Raw json.RawMessage
}

// Error returns "natstransport: PATTERN: CODE: MESSAGE".
func (e *RemoteError) Error() string {
	return fmt.Sprintf("natstransport: %s: %v", e.Pattern, e.Err)
}

// Unwrap returns the *msregistry.Error.
func (e *RemoteError) Unwrap() error { return e.Err }
