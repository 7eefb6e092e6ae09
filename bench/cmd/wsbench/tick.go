package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// The fan-out wire format, shared by both fan-out servers and the load
// generator.
//
// The publisher sends the text message "publish N SIZE"; the server sends N
// messages of SIZE bytes to every other connection. Each is an event frame
// whose sequence number (1, 2, ... per server) sits at a fixed offset, so a
// subscriber checks order and loss without parsing JSON:
//
//	{"kind":"event","pattern":"bench.tick","payload":{"seq":"00000000000000000042","pad":"xx…"},"metadata":{}}

const (
	tickHead   = `{"kind":"event","pattern":"bench.tick","payload":{"seq":"`
	tickMid    = `","pad":"`
	tickTail   = `"},"metadata":{}}`
	seqDigits  = 20 // enough for any uint64
	minTick    = len(tickHead) + seqDigits + len(tickMid) + len(tickTail)
	maxTick    = 32 << 10 // the gateway's default read limit
	maxPublish = 1 << 16  // messages per publish request
)

// tickFrame returns message seq, padded to size bytes (at least minTick).
func tickFrame(seq uint64, size int) []byte {
	size = max(size, minTick)
	b := make([]byte, 0, size)
	b = append(b, tickHead...)
	var digits [seqDigits]byte
	d := strconv.AppendUint(digits[:0], seq, 10)
	b = append(b, bytes.Repeat([]byte{'0'}, seqDigits-len(d))...)
	b = append(b, d...)
	b = append(b, tickMid...)
	b = append(b, bytes.Repeat([]byte{'x'}, size-minTick)...)
	return append(b, tickTail...)
}

// tickSeq returns the sequence number of a message made by tickFrame.
func tickSeq(frame []byte) (uint64, error) {
	if len(frame) < minTick || !bytes.HasPrefix(frame, []byte(tickHead)) {
		return 0, fmt.Errorf("message %.60q is not a bench.tick event", frame)
	}
	var seq uint64
	for _, c := range frame[len(tickHead) : len(tickHead)+seqDigits] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("message %.60q: sequence number is not %d digits", frame, seqDigits)
		}
		seq = seq*10 + uint64(c-'0')
	}
	return seq, nil
}

// badPublish is the close reason for a message that is not a publish
// request.
const badPublish = `bad control message: want "publish N SIZE"`

// publishRequest returns the message that asks a fan-out server for n
// messages of size bytes.
func publishRequest(n, size int) []byte { return fmt.Appendf(nil, "publish %d %d", n, size) }

// parsePublish parses "publish N SIZE".
func parsePublish(msg []byte) (n, size int, err error) {
	if _, err := fmt.Sscanf(string(msg), "publish %d %d", &n, &size); err != nil {
		return 0, 0, fmt.Errorf("control message %.40q: want \"publish N SIZE\": %w", msg, err)
	}
	if n < 1 || n > maxPublish || size < 1 || size > maxTick {
		return 0, 0, fmt.Errorf("control message %.40q: want N in 1..%d and SIZE in 1..%d", msg, maxPublish, maxTick)
	}
	return n, size, nil
}
