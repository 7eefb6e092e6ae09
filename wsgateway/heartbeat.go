package wsgateway

import (
	"context"
	"fmt"
)

// How the heartbeat works
//
// One timer per connection, c.heartbeat, and no goroutine between pings.
// When it fires after PingInterval, its callback sends a ping, re-arms the
// same timer for PongTimeout and waits for the pong on the timer's own
// goroutine, which lives only until the pong arrives. The pong re-arms the
// timer for the next PingInterval. If the timer fires while a pong is still
// awaited, the peer is gone: the connection is closed with 1008. A ping
// allocates no context or timer of its own, so an idle connection produces
// almost no garbage between pings.

// startHeartbeat arms the first ping.
func (c *Conn) startHeartbeat() {
	if c.cfg.PingInterval < 0 {
		return
	}
	// Create stopped, then arm: the callback then sees c.heartbeat set.
	c.heartbeat = c.newTimer(c.tick)
	c.heartbeat.Reset(c.cfg.PingInterval)
}

// tick runs when the heartbeat timer fires: it pings, or, when the last
// ping is still unanswered, ends the connection.
func (c *Conn) tick() {
	if c.awaitingPong.Load() {
		c.fail(StatusPolicyViolation, "heartbeat timeout", fmt.Errorf("%w within %s", ErrHeartbeatTimeout, c.cfg.PongTimeout))
		return
	}
	c.awaitingPong.Store(true)
	c.heartbeat.Reset(c.cfg.PongTimeout)
	// Returns with the pong, or with an error once the connection has
	// ended (then there is nothing to re-arm).
	if err := c.ws.Ping(context.Background()); err != nil {
		return
	}
	if c.awaitingPong.CompareAndSwap(true, false) {
		c.heartbeat.Reset(c.cfg.PingInterval)
	}
}
