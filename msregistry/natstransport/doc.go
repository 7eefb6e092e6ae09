// Package natstransport serves an msregistry.Registry over NATS and calls
// remote patterns, speaking NestJS's NATS transport format, so Go and NestJS
// services call each other.
//
// Serve the registry's patterns on a connection:
//
//	nc, err := nats.Connect(os.Getenv("NATS_URL"))
//	srv, err := natstransport.NewServer(nc, reg, natstransport.Name("users"), natstransport.Logger(log))
//	err = srv.Start()
//	defer srv.Stop(ctx)
//
// and call them, from Go or from NestJS's ClientNats:
//
//	client := natstransport.NewClient(nc)
//	n, err := msregistry.Send[CountResp](ctx, client, "users.count", CountReq{Group: "admins"})
//
// Under fxforge, fxnats.Microservice serves the app's registry on the app's
// connection.
//
// # Wire format
//
// Every message and event pattern becomes a subscription. A string pattern
// is the subject; an object pattern (a pattern that starts with '{', such as
// {"cmd":"sum"}) is normalised as NestJS does it (see Subject). A request is
// published on the subject with a reply inbox:
//
//	{"pattern":"math.sum","data":[1,2,3],"id":"b7c1..."}
//
// and answered on the inbox with
//
//	{"id":"b7c1...","response":6,"isDisposed":true}
//	{"id":"b7c1...","err":{"code":"bad_request","message":"..."},"isDisposed":true}
//
// An event is {"pattern":...,"data":...} without an id and gets no reply. A
// message with an id or a reply subject is served as a request, one with
// neither as an event. A message that is not a NestJS packet (a bare JSON
// value, or an object with neither pattern nor data) is taken whole as the
// data, as NestJS does, so `nats request math.sum '[1,2]'` works too.
//
// An error reply's err is {"code":...,"message":...}: a handler's
// *msregistry.Error as it was returned, the registry's own errors
// (not_found, invalid_payload, internal), or invalid_frame for a message
// that is not JSON. A NestJS caller receives it as the RpcException object.
// Error replies also carry micro's Nats-Service-Error and
// Nats-Service-Error-Code headers.
//
// # Headers
//
// The metadata of a call (msregistry.WithMetadata) travels as NATS headers,
// one per key, and reaches the handler as msregistry.CallFrom(ctx).Metadata;
// every header a NestJS client sets arrives the same way. The request id
// travels in X-Request-Id; a handler reads it with identity.RequestID, and a
// call without a valid one gets a fresh id. The caller's identity travels in
// Fxforge-Identity only when the client opts in with ForwardIdentity, and a
// server reads it only with TrustIdentity: the header says whatever the
// publisher wrote, so trusting it is a decision about who may publish on
// the service's subjects.
//
// # Load sharing
//
// Each subscription joins a queue group (the service name unless
// QueueGroup says otherwise): instances in one group share the messages and
// the events, each going to one instance. A call is handled on the
// goroutine that read it; when it runs longer than 100µs another goroutine
// takes over reading, so a slow call never holds up the next, up to
// MaxInFlight goroutines per subject (1 serves a subject in order). Stop
// drains the subscriptions, so the messages an instance has received are
// answered before it goes.
//
// # Discovery
//
// A Server answers the NATS service protocol of nats.go/micro ($SRV.PING,
// $SRV.INFO and $SRV.STATS, for all services, by name, and by instance id)
// with micro's types, so `nats micro list`, `nats micro info NAME` and
// `nats micro stats NAME` show the service, one endpoint per subject (with
// the registry pattern and its kind as metadata), the queue group, and
// per-endpoint requests, errors and processing time.
//
// # Client errors
//
// Client.Send returns a *RemoteError for a remote error (errors.As finds
// the *msregistry.Error in it too), an error wrapping ErrNoResponders when
// nothing serves the subject, and one wrapping ErrTimeout when no reply came
// before the deadline: the context's, else Timeout (DefaultTimeout).
package natstransport
