package wsgateway

// IsRoom reports whether t targets a room. Room returns the room's name,
// which may be "": a Broker needs IsRoom to tell ToRoom("") from ToConn("")
// when it carries t to another node.
func (t Target) IsRoom() bool { return t.kind == targetRoom }
