package natstransport

import (
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/zap"
)

// The Server answers the NATS service protocol that nats.go/micro defines,
// with micro's own types, so `nats micro list|info|stats` and any micro
// client see it as a service with one endpoint per pattern. It does not use
// micro.AddService because micro runs an endpoint's handler on the
// subscription's goroutine, one request at a time, and measures only
// handlers that reply there; the Server runs calls concurrently.

// Ping returns the service's reply to $SRV.PING.
func (s *Server) Ping() micro.Ping {
	return micro.Ping{ServiceIdentity: s.serviceIdentity(), Type: micro.PingResponseType}
}

// Info returns the service's reply to $SRV.INFO: its name, id, version,
// description and one endpoint per served subject, each with the queue
// group and metadata "pattern" (the registry pattern) and "kind"
// ("message", "event" or "message,event").
func (s *Server) Info() micro.Info {
	eps := make([]micro.EndpointInfo, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		eps = append(eps, e.info(s.cfg.queueGroup))
	}
	return micro.Info{ServiceIdentity: s.serviceIdentity(), Type: micro.InfoResponseType, Description: s.cfg.description, Endpoints: eps}
}

// Stats returns the service's reply to $SRV.STATS: per endpoint, the
// messages handled, the errors (error replies, malformed messages, events
// that reached no handler) and the time spent in handlers.
func (s *Server) Stats() micro.Stats {
	eps := make([]*micro.EndpointStats, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		eps = append(eps, e.stats(s.cfg.queueGroup))
	}
	return micro.Stats{ServiceIdentity: s.serviceIdentity(), Type: micro.StatsResponseType, Started: s.started, Endpoints: eps}
}

func (s *Server) serviceIdentity() micro.ServiceIdentity {
	return micro.ServiceIdentity{Name: s.cfg.name, ID: s.id, Version: s.cfg.version, Metadata: map[string]string{}}
}

// subscribeDiscovery subscribes the PING, INFO and STATS subjects: for all
// services, for this service's name, and for this instance's id.
func (s *Server) subscribeDiscovery() error {
	verbs := []struct {
		verb  micro.Verb
		reply func() any
	}{
		{micro.PingVerb, func() any { return s.Ping() }},
		{micro.InfoVerb, func() any { return s.Info() }},
		{micro.StatsVerb, func() any { return s.Stats() }},
	}
	for _, v := range verbs {
		for _, scope := range [][2]string{{"", ""}, {s.cfg.name, ""}, {s.cfg.name, s.id}} {
			subj, err := micro.ControlSubject(v.verb, scope[0], scope[1])
			if err != nil {
				return fmt.Errorf("natstransport: discovery subject for %s: %w", v.verb, err)
			}
			reply := v.reply
			sub, err := s.nc.Subscribe(subj, func(m *nats.Msg) {
				b, _ := json.Marshal(reply()) // micro's types always encode
				if err := m.Respond(b); err != nil {
					s.log.Warn("discovery reply failed", zap.String("subject", m.Subject), zap.Error(err))
				}
			})
			if err != nil {
				return fmt.Errorf("natstransport: subscribe %s: %w", subj, err)
			}
			s.discovery = append(s.discovery, sub)
		}
	}
	return nil
}
