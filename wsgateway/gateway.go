package wsgateway

// Gateway is a WebSocket endpoint's application logic. OnConnect runs once
// per accepted connection, on the connection's own goroutine; when it
// returns, the connection ends: nil closes with 1000, an error is logged and
// closes with 1011, and a panic is recovered, logged and closes with 1011.
//
// OnConnect must keep reading (conn.Read, or Serve) for as long as it wants
// the connection: control frames (pongs, the peer's close) are processed
// while a read is in progress, so a gateway that never reads fails its
// heartbeats.
type Gateway interface {
	OnConnect(ctx *Context, conn *Conn) error
}

// GatewayFunc adapts a function to Gateway.
type GatewayFunc func(ctx *Context, conn *Conn) error

// OnConnect calls f(ctx, conn).
func (f GatewayFunc) OnConnect(ctx *Context, conn *Conn) error { return f(ctx, conn) }

// DisconnectHandler is implemented by gateways that want to know when a
// connection ends. OnDisconnect is called exactly once per connection, after
// the socket is closed and ctx is cancelled (use context.WithoutCancel for
// clean-up I/O), with the close status and its cause.
type DisconnectHandler interface {
	OnDisconnect(ctx *Context, status CloseStatus)
}
