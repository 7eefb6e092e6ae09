package wsgateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"go.uber.org/zap"
)

// Hub is the set of live connections of an app, across its gateways, with
// rooms. It sends to one connection, a room or everyone, optionally except
// one connection (usually the sender). A connection served by a Server whose
// Config.Hub is set joins the hub when it opens and leaves it, and every
// room, when it ends.
//
// Everything a Hub sends goes through each connection's bounded queue and
// is written by that connection's writer: a slow client never holds up the
// sender or the others, and is closed with 1013 when its queue overflows.
//
// With a Broker (see HubConfig), hubs in several processes share rooms and
// broadcast: a message sent on one node reaches the members on every node,
// each exactly once, in the order each sender sent them. Without one, the
// hub serves its own process only. Members, Count and Rooms always describe
// this node's connections.
type Hub struct {
	node   string
	broker Broker
	log    *zap.Logger

	mu    sync.RWMutex
	conns map[string]*Conn
	rooms map[string]map[*Conn]struct{}
	joins map[*Conn][]string // the rooms each connection is in

	stop func() error // ends the broker subscription
}

// HubConfig configures a Hub. The zero value is a hub for one process.
type HubConfig struct {
	// Broker carries messages between the hubs of several processes; nil
	// means this process only.
	Broker Broker
	// Logger receives the hub's logs; nil means no logging.
	Logger *zap.Logger
}

// NewHub returns a Hub. Call Start before use when it has a Broker.
func NewHub(cfg HubConfig) *Hub {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Hub{
		node:   rand.Text(),
		broker: cfg.Broker,
		log:    log,
		conns:  make(map[string]*Conn),
		rooms:  make(map[string]map[*Conn]struct{}),
		joins:  make(map[*Conn][]string),
	}
}

// Node returns the hub's node id, unique per process; a Broker tags what a
// hub publishes with it, so the hub can skip its own messages.
func (h *Hub) Node() string { return h.node }

// Start subscribes the hub to its Broker, if it has one.
func (h *Hub) Start(ctx context.Context) error {
	if h.broker == nil {
		return nil
	}
	stop, err := h.broker.Subscribe(ctx, h.node, h.deliverRemote)
	if err != nil {
		return fmt.Errorf("wsgateway: hub: subscribe to broker: %w", err)
	}
	h.stop = stop
	return nil
}

// Close ends the broker subscription. Connections stay open; the Servers
// close them.
func (h *Hub) Close() error {
	if h.stop == nil {
		return nil
	}
	return h.stop()
}

// add registers a connection that has opened.
func (h *Hub) add(c *Conn) {
	h.mu.Lock()
	h.conns[c.ID()] = c
	h.mu.Unlock()
}

// remove forgets a connection that has ended, with its rooms.
func (h *Hub) remove(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c.ID())
	for _, room := range h.joins[c] {
		h.leaveLocked(c, room)
	}
	delete(h.joins, c)
	h.mu.Unlock()
}

// Join puts c in room. Joining a room twice is harmless. A connection that
// has ended, or that is not served with this hub, joins nothing and gets
// ErrClosed or ErrNotInHub.
func (h *Hub) Join(c *Conn, room string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[c.ID()] != c {
		select {
		case <-c.Done():
			return ErrClosed
		default:
			return ErrNotInHub
		}
	}
	members := h.rooms[room]
	if _, ok := members[c]; ok {
		return nil
	}
	if members == nil {
		members = make(map[*Conn]struct{})
		h.rooms[room] = members
	}
	members[c] = struct{}{}
	h.joins[c] = append(h.joins[c], room)
	return nil
}

// Leave takes c out of room; leaving a room one is not in is harmless.
func (h *Hub) Leave(c *Conn, room string) {
	h.mu.Lock()
	if i := slices.Index(h.joins[c], room); i >= 0 {
		h.joins[c] = slices.Delete(h.joins[c], i, i+1)
		h.leaveLocked(c, room)
	}
	h.mu.Unlock()
}

func (h *Hub) leaveLocked(c *Conn, room string) {
	members := h.rooms[room]
	delete(members, c)
	if len(members) == 0 {
		delete(h.rooms, room)
	}
}

// Members returns the ids of this node's connections in room.
func (h *Hub) Members(room string) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]string, 0, len(h.rooms[room]))
	for c := range h.rooms[room] {
		ids = append(ids, c.ID())
	}
	return ids
}

// Count returns how many of this node's connections are in room.
func (h *Hub) Count(room string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[room])
}

// Rooms returns the rooms c is in.
func (h *Hub) Rooms(c *Conn) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.joins[c])
}

// Len returns the number of this node's connections.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Send sends data as a text message to the connections of t, on this node
// and, through the Broker, on every other. It takes ownership of data. It
// returns once the message is queued here and handed to the broker; an
// error says the broker did not take it (this node's members got it all
// the same).
func (h *Hub) Send(ctx context.Context, t Target, data []byte) error {
	h.deliver(t, MessageText, data)
	if h.broker == nil || (t.kind == targetConn && h.has(t.name)) {
		return nil
	}
	if err := h.broker.Publish(ctx, BrokerMessage{Node: h.node, Target: t, Type: MessageText, Data: data}); err != nil {
		return fmt.Errorf("wsgateway: hub: publish to other nodes: %w", err)
	}
	return nil
}

// Emit sends the event frame {"kind":"event","pattern":...,"payload":...,
// "metadata":{}} to the connections of t; see Send. payload is encoded with
// encoding/json.
func (h *Hub) Emit(ctx context.Context, t Target, pattern string, payload any) error {
	data, err := EventFrame(pattern, payload)
	if err != nil {
		return err
	}
	return h.Send(ctx, t, data)
}

// EventFrame encodes the event frame a server pushes to clients:
//
//	{"kind":"event","pattern":"chat.message","payload":{...},"metadata":{}}
func EventFrame(pattern string, payload any) ([]byte, error) {
	data, err := json.Marshal(eventFrame{Kind: "event", Pattern: pattern, Payload: payload, Metadata: struct{}{}})
	if err != nil {
		return nil, fmt.Errorf("wsgateway: encode event %q: %w", pattern, err)
	}
	return data, nil
}

type eventFrame struct {
	Kind     string   `json:"kind"`
	Pattern  string   `json:"pattern"`
	Payload  any      `json:"payload"`
	Metadata struct{} `json:"metadata"`
}

func (h *Hub) has(id string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.conns[id]
	return ok
}

// deliverRemote delivers what another node published.
func (h *Hub) deliverRemote(m BrokerMessage) {
	if m.Node == h.node {
		return // this node delivered it when it was sent
	}
	h.deliver(m.Target, m.Type, m.Data)
}

// deliver queues data on this node's connections of t. A connection whose
// queue is full is closed by its own write (1013); the others go on.
func (h *Hub) deliver(t Target, typ MessageType, data []byte) {
	h.mu.RLock()
	switch t.kind {
	case targetConn:
		if c := h.conns[t.name]; c != nil && t.name != t.except {
			_ = c.write(typ, data, false)
		}
	case targetRoom:
		for c := range h.rooms[t.name] {
			if c.ID() != t.except {
				_ = c.write(typ, data, false)
			}
		}
	case targetAll:
		for id, c := range h.conns {
			if id != t.except {
				_ = c.write(typ, data, false)
			}
		}
	}
	h.mu.RUnlock()
}
