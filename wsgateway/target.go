package wsgateway

// Target says which connections a Hub sends to: one connection, a room or
// everyone, optionally except one connection.
//
//	hub.Emit(ctx, wsgateway.ToRoom("lobby").Except(conn.ID()), "chat.message", msg)
type Target struct {
	kind   targetKind
	name   string // the connection id or the room
	except string // a connection id, or ""
}

type targetKind uint8

const (
	targetConn targetKind = iota + 1
	targetRoom
	targetAll
)

// ToConn targets the connection with id connID, on whichever node it is.
func ToConn(connID string) Target { return Target{kind: targetConn, name: connID} }

// ToRoom targets every member of room, on every node.
func ToRoom(room string) Target { return Target{kind: targetRoom, name: room} }

// ToAll targets every connection of the hub, on every node.
func ToAll() Target { return Target{kind: targetAll} }

// Except returns t without the connection with id connID, usually the
// sender.
func (t Target) Except(connID string) Target {
	t.except = connID
	return t
}

// Room returns the room t targets, or "".
func (t Target) Room() string {
	if t.kind != targetRoom {
		return ""
	}
	return t.name
}

// Conn returns the connection id t targets, or "".
func (t Target) Conn() string {
	if t.kind != targetConn {
		return ""
	}
	return t.name
}

// All reports whether t targets every connection.
func (t Target) All() bool { return t.kind == targetAll }

// ExceptConn returns the connection id t leaves out, or "".
func (t Target) ExceptConn() string { return t.except }

// Valid reports whether t names a target; the zero Target does not.
func (t Target) Valid() bool { return t.kind != 0 }
