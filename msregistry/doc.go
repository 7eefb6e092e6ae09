// Package msregistry is the microservice message and event registry of
// fxforge: the Go counterpart of NestJS's @MessagePattern and @EventPattern.
//
// A Registry maps message patterns to one request/response handler each and
// event patterns to any number of fire-and-forget handlers. Handlers are
// typed functions; their JSON payloads are decoded into the input type and
// their results encoded as JSON, with closures built at registration and no
// reflection of the registry's own at dispatch:
//
//	reg := msregistry.New(msregistry.WithLogger(log))
//	err := msregistry.Message(reg, "users.count", func(ctx context.Context, in CountReq) (CountResp, error) {
//		if in.Group == "" {
//			return CountResp{}, msregistry.NewError("bad_request", "group is required")
//		}
//		return CountResp{N: 42}, nil
//	})
//	err = msregistry.Event(reg, "users.created", func(ctx context.Context, in User) error {
//		return mailer.Welcome(ctx, in)
//	})
//
// # Handler context
//
// A handler's context carries everything of the incoming context (request
// id, identity, cancellation) plus the call itself: CallFrom(ctx) returns the
// transport name, pattern, kind and metadata. Resolve[T](ctx) looks up a
// value registered in the resolver of the incoming context, or in the one
// given with WithResolver.
//
// # Errors
//
// A handler returns an *Error (see NewError) to answer with its own code and
// message, like NestJS's RpcException. Any other error, and any panic, is
// logged in full (pattern, request id, stack) and reaches the client only as
// {"code":"internal","message":"internal error"}. The registry itself
// answers CodeNotFound for an unknown pattern, CodeInvalidPayload for a
// payload that does not decode (naming the field) and CodeInvalidFrame for
// a malformed frame.
//
// # Transports
//
// Transports dispatch with Registry.Call and Registry.Emit. Frame transports
// such as the WebSocket adapter in wsgateway hand each frame to
// Registry.HandleFrame, which speaks this protocol:
//
//	{"kind":"message","pattern":"app.info","payload":null,"metadata":{},"id":"c-17"}
//	{"kind":"response","pattern":"app.info","id":"c-17","payload":{...},"metadata":{}}
//	{"kind":"error","pattern":"app.info","id":"c-17","error":{"code":"not_found","message":"..."}}
//
// A Client sends messages and emits events; NewLocalClient is the
// in-process one, network transports live in subpackages:
//
//	n, err := msregistry.Send[CountResp](ctx, msregistry.NewLocalClient(reg), "users.count", CountReq{Group: "admins"})
package msregistry
