package wsgateway

import (
	"context"
	"fmt"
	"time"
)

// startHeartbeat pings the peer every PingInterval with a timer, so an idle
// connection costs no goroutine between pings.
func (c *Conn) startHeartbeat() {
	if c.cfg.PingInterval < 0 {
		return
	}
	// Create stopped, then arm: the callback then sees c.heartbeat set.
	c.heartbeat = time.AfterFunc(time.Hour, c.ping)
	c.heartbeat.Stop()
	c.heartbeat.Reset(c.cfg.PingInterval)
}

// ping runs on the heartbeat timer's goroutine, which lives only until the
// pong arrives.
func (c *Conn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PongTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	select {
	case <-c.done:
		return
	default:
	}
	if err != nil {
		c.fail(StatusPolicyViolation, "heartbeat timeout", fmt.Errorf("%w within %s", ErrHeartbeatTimeout, c.cfg.PongTimeout))
		return
	}
	c.heartbeat.Reset(c.cfg.PingInterval)
}
