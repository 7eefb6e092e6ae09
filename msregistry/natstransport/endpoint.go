package natstransport

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// endpoint is one served subject: a message pattern, an event pattern, or
// both when they share a name.
type endpoint struct {
	name    string // discovery name: letters, digits, '-' and '_'
	pattern string // the registry pattern
	subject string
	message bool
	event   bool

	sub *nats.Subscription

	// One goroutine at a time reads sub and handles what it reads on its
	// own goroutine; see Server.handleInline.
	rmu     sync.Mutex
	running int         // goroutines of this endpoint: the reader and handlers it left
	inline  bool        // the reader is handling a message: nobody reads
	episode uint64      // counts messages handled inline
	armed   uint64      // the episode the handoff timer was set for
	timer   *time.Timer // hands reading over when a handler is slow

	mu             sync.Mutex
	requests       int
	errors         int
	lastError      string
	processingTime time.Duration
}

// kind is the endpoint's "kind" metadata: "message", "event" or
// "message,event".
func (e *endpoint) kind() string {
	switch {
	case e.message && e.event:
		return "message,event"
	case e.message:
		return "message"
	default:
		return "event"
	}
}

// exit counts a goroutine of the endpoint out.
func (e *endpoint) exit() {
	e.rmu.Lock()
	e.running--
	e.rmu.Unlock()
}

// record adds one handled message to the endpoint's stats.
func (e *endpoint) record(d time.Duration, err error) {
	e.mu.Lock()
	e.requests++
	e.processingTime += d
	if err != nil {
		e.errors++
		e.lastError = err.Error()
	}
	e.mu.Unlock()
}

func (e *endpoint) info(queue string) micro.EndpointInfo {
	return micro.EndpointInfo{
		Name:       e.name,
		Subject:    e.subject,
		QueueGroup: queue,
		Metadata:   map[string]string{"pattern": e.pattern, "kind": e.kind()},
	}
}

func (e *endpoint) stats(queue string) *micro.EndpointStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &micro.EndpointStats{
		Name:           e.name,
		Subject:        e.subject,
		QueueGroup:     queue,
		NumRequests:    e.requests,
		NumErrors:      e.errors,
		LastError:      e.lastError,
		ProcessingTime: e.processingTime,
	}
	if e.requests > 0 {
		s.AverageProcessingTime = e.processingTime / time.Duration(e.requests)
	}
	return s
}

// notName matches what may not appear in a discovery name.
var notName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// endpointsOf builds one endpoint per subject from the registry's
// patterns, sorted by subject. Two patterns on one subject are an error.
func endpointsOf(messages, events []string) ([]*endpoint, error) {
	byPattern := map[string]*endpoint{}
	add := func(p string) *endpoint {
		e := byPattern[p]
		if e == nil {
			e = &endpoint{pattern: p}
			byPattern[p] = e
		}
		return e
	}
	for _, p := range messages {
		add(p).message = true
	}
	for _, p := range events {
		add(p).event = true
	}
	eps := make([]*endpoint, 0, len(byPattern))
	bySubject := map[string]*endpoint{}
	for _, e := range byPattern {
		subj, err := Subject(e.pattern)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(subj, " \t\r\n") || subj == "" {
			return nil, fmt.Errorf("natstransport: pattern %q cannot be a NATS subject: it contains whitespace; rename the pattern", e.pattern)
		}
		if other := bySubject[subj]; other != nil {
			return nil, fmt.Errorf("natstransport: patterns %q and %q are both served on subject %q; register one of them only", other.pattern, e.pattern, subj)
		}
		bySubject[subj] = e
		e.subject = subj
		eps = append(eps, e)
	}
	slices.SortFunc(eps, func(a, b *endpoint) int { return strings.Compare(a.subject, b.subject) })
	names := map[string]int{}
	for _, e := range eps {
		n := strings.Trim(notName.ReplaceAllString(e.subject, "_"), "_")
		if n == "" {
			n = "endpoint"
		}
		names[n]++
		if names[n] > 1 {
			n = fmt.Sprintf("%s-%d", n, names[n])
		}
		e.name = n
	}
	return eps, nil
}
