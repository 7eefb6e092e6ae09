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
// # Typed resolution
//
// Resolver, NewResolver, Register, Resolve and NotRegisteredError are the
// one declaration of fxforge's typed resolution: wsgateway.Config.Resolver is
// an *msregistry.Resolver, and wsgateway.Resolve reads the same resolver.
// fxforge fills it from the fx graph; without fx, register values yourself:
//
//	res := msregistry.NewResolver()
//	msregistry.Register(res, cfg)           // resolvable as *AppConfig
//	msregistry.Register[Store](res, mem)    // resolvable as the interface Store
//	reg := msregistry.New(msregistry.WithResolver(res))
//
// # Guards and validation
//
// A pattern may carry guards, checked against the caller's identity before
// the payload is decoded (NestJS's @UseGuards); a refusal answers
// CodeUnauthorized or CodeForbidden. An input type with a Validate() error
// method (see Validator) is validated after decoding and before the handler
// (NestJS's ValidationPipe); a failure answers CodeInvalidPayload:
//
//	msregistry.Message(reg, "admin.stats", stats, msregistry.WithGuards(identity.AnyRole("admin")))
//
// # Views
//
// Registry.Subset returns a view that serves some patterns only, so each
// gateway of an app exposes its own patterns and not another's:
//
//	chat := reg.Subset("chat.*")
//
// # Errors
//
// A handler returns an *Error (see NewError) to answer with its own code and
// message, like NestJS's RpcException. Any other error, and any panic, is
// logged in full (pattern, request id, stack) and reaches the client only as
// {"code":"internal","message":"internal error"}. The registry itself
// answers CodeNotFound for an unknown pattern, CodeInvalidPayload for a
// payload that does not decode (naming the field) or validate,
// CodeUnauthorized and CodeForbidden for a guard's refusal, and
// CodeInvalidFrame for a malformed frame.
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
