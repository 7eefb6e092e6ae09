package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// JoinRequest is chat.join's payload.
type JoinRequest struct {
	Room string `json:"room"`
	Name string `json:"name"`
}

// Validate runs before chat.join's handler; its error is the client's
// invalid_payload error frame.
func (r JoinRequest) Validate() error {
	return errors.Join(validRoom(r.Room), validText("name", r.Name, 32))
}

// SendRequest is chat.send's payload.
type SendRequest struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// Validate runs before chat.send's handler.
func (r SendRequest) Validate() error {
	return errors.Join(validRoom(r.Room), validText("text", r.Text, 2000))
}

// LeaveRequest is chat.leave's payload.
type LeaveRequest struct {
	Room string `json:"room"`
}

// Validate runs before chat.leave's handler.
func (r LeaveRequest) Validate() error { return validRoom(r.Room) }

// Message is the chat.message event every other member of a room gets.
type Message struct {
	Room string `json:"room"`
	Name string `json:"name"`
	Text string `json:"text"`
	From string `json:"from"` // the sender's connection id
}

// Ack is the reply to chat.join, chat.send and chat.leave.
type Ack struct {
	Room    string `json:"room"`
	Members int    `json:"members,omitempty"` // on this node, after a join
}

func validRoom(room string) error { return validText("room", room, 64) }

func validText(field, s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New(field + " is required")
	case len(s) > max:
		return errors.New(field + " is too long")
	}
	return nil
}

// Chat keeps who is in which room under which name; the rooms themselves
// are the hub's, so they span every instance that shares NATS.
type Chat struct {
	hub   *wsgateway.Hub
	mu    sync.Mutex
	names map[string]map[string]string // connection id → room → name
}

// NewChat returns a Chat on hub.
func NewChat(hub *wsgateway.Hub) *Chat {
	return &Chat{hub: hub, names: make(map[string]map[string]string)}
}

// Register adds chat.join, chat.send and chat.leave to reg.
func (c *Chat) Register(reg *msregistry.Registry) error {
	return errors.Join(
		msregistry.Message(reg, "chat.join", c.join),
		msregistry.Message(reg, "chat.send", c.send),
		msregistry.Message(reg, "chat.leave", c.leave),
	)
}

// errNoConnection is what a chat pattern answers when it is called other
// than through the WebSocket gateway.
var errNoConnection = msregistry.NewError("bad_request", "chat patterns are served over the WebSocket gateway only")

func (c *Chat) join(ctx context.Context, in JoinRequest) (Ack, error) {
	conn, ok := wsgateway.ConnFrom(ctx)
	if !ok {
		return Ack{}, errNoConnection
	}
	if err := c.hub.Join(conn, in.Room); err != nil {
		return Ack{}, err
	}
	c.mu.Lock()
	if c.names[conn.ID()] == nil {
		c.names[conn.ID()] = make(map[string]string)
	}
	c.names[conn.ID()][in.Room] = in.Name
	c.mu.Unlock()
	return Ack{Room: in.Room, Members: c.hub.Count(in.Room)}, nil
}

func (c *Chat) send(ctx context.Context, in SendRequest) (Ack, error) {
	conn, ok := wsgateway.ConnFrom(ctx)
	if !ok {
		return Ack{}, errNoConnection
	}
	c.mu.Lock()
	name, joined := c.names[conn.ID()][in.Room]
	c.mu.Unlock()
	if !joined {
		return Ack{}, msregistry.NewError("not_joined", "join the room with chat.join before sending to it")
	}
	msg := Message{Room: in.Room, Name: name, Text: in.Text, From: conn.ID()}
	if err := c.hub.Emit(ctx, wsgateway.ToRoom(in.Room).Except(conn.ID()), "chat.message", msg); err != nil {
		return Ack{}, err
	}
	return Ack{Room: in.Room}, nil
}

func (c *Chat) leave(ctx context.Context, in LeaveRequest) (Ack, error) {
	conn, ok := wsgateway.ConnFrom(ctx)
	if !ok {
		return Ack{}, errNoConnection
	}
	c.hub.Leave(conn, in.Room)
	c.mu.Lock()
	delete(c.names[conn.ID()], in.Room)
	c.mu.Unlock()
	return Ack{Room: in.Room}, nil
}

// forget drops a connection's names once it has ended; the hub has already
// taken it out of its rooms.
func (c *Chat) forget(connID string) {
	c.mu.Lock()
	delete(c.names, connID)
	c.mu.Unlock()
}

// Gateway serves the chat frames and forgets a connection when it ends.
type Gateway struct {
	reg  *msregistry.Registry
	chat *Chat
}

// NewGateway returns the chat gateway.
func NewGateway(reg *msregistry.Registry, chat *Chat) *Gateway {
	return &Gateway{reg: reg, chat: chat}
}

// OnConnect serves the connection's frames until it ends.
func (g *Gateway) OnConnect(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
	return wsgateway.Serve(ctx, conn, g.reg)
}

// OnDisconnect forgets the connection.
func (g *Gateway) OnDisconnect(ctx *wsgateway.Context, _ wsgateway.CloseStatus) {
	g.chat.forget(ctx.ConnID())
}
