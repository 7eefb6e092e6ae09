package natstransport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/msregistry"
)

// flushTimeout bounds how long Start waits for the NATS server to confirm
// the subscriptions.
const flushTimeout = 5 * time.Second

// validName matches a service name discovery accepts.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Server serves the message and event patterns of an msregistry.Registry
// over NATS, in NestJS's wire format, and answers NATS service discovery.
// Create it with NewServer, then Start and Stop it.
type Server struct {
	nc  *nats.Conn
	reg *msregistry.Registry
	cfg serverConfig
	log *zap.Logger
	id  string

	// Set by Start before any subscription exists, read-only afterwards.
	endpoints []*endpoint
	started   time.Time

	subs      []*nats.Subscription
	discovery []*nats.Subscription

	ctx     context.Context    // the handlers' context
	cancel  context.CancelFunc // cancels it when Stop gives up waiting
	readers sync.WaitGroup

	mu    sync.Mutex
	state serverState
}

type serverState uint8

const (
	stateNew serverState = iota
	stateStarted
	stateStopped
)

// NewServer returns a Server for reg's patterns on nc. It checks the
// options and touches neither nc nor reg; Start subscribes.
func NewServer(nc *nats.Conn, reg *msregistry.Registry, opts ...ServerOption) (*Server, error) {
	cfg := newServerConfig(opts)
	switch {
	case nc == nil:
		return nil, errors.New("natstransport: NewServer needs a *nats.Conn; connect with nats.Connect or use fxnats")
	case reg == nil:
		return nil, errors.New("natstransport: NewServer needs an *msregistry.Registry; create one with msregistry.New")
	case !validName.MatchString(cfg.name):
		return nil, fmt.Errorf("natstransport: service name %q: use letters, digits, '-' and '_' only", cfg.name)
	case cfg.version == "":
		return nil, errors.New("natstransport: empty service version; pass a SemVer version such as 1.0.0 to natstransport.Version")
	case strings.ContainsAny(cfg.queueGroup, " \t\r\n"):
		return nil, fmt.Errorf("natstransport: queue group %q contains whitespace; pass a name without spaces to natstransport.QueueGroup", cfg.queueGroup)
	case cfg.maxInFlight < 1:
		return nil, fmt.Errorf("natstransport: MaxInFlight(%d): allow at least one call at a time", cfg.maxInFlight)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		nc: nc, reg: reg, cfg: cfg, log: cfg.log, id: nuid.Next(),
		ctx: ctx, cancel: cancel,
	}, nil
}

// ID returns the instance id discovery reports, unique per Server.
func (s *Server) ID() string { return s.id }

// Start subscribes every message and event pattern registered in the
// registry now (patterns registered later are not served), each on its
// subject (see Subject) in the queue group, and the discovery subjects;
// it returns once the NATS server has confirmed the subscriptions.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("natstransport: Server.Start called twice; create a new Server to serve again")
	}
	eps, err := endpointsOf(s.reg.Patterns())
	if err != nil {
		return err
	}
	s.endpoints = eps
	s.started = time.Now().UTC()
	for _, ep := range eps {
		sub, err := s.nc.QueueSubscribeSync(ep.subject, s.cfg.queueGroup)
		if err != nil {
			s.unsubscribeAll()
			return fmt.Errorf("natstransport: subscribe pattern %q on subject %q: %w", ep.pattern, ep.subject, err)
		}
		ep.sub = sub
		s.subs = append(s.subs, sub)
	}
	if err := s.subscribeDiscovery(); err != nil {
		s.unsubscribeAll()
		return err
	}
	if err := s.nc.FlushTimeout(flushTimeout); err != nil {
		s.unsubscribeAll()
		return fmt.Errorf("natstransport: the NATS server did not confirm the subscriptions within %s: %w", flushTimeout, err)
	}
	s.state = stateStarted
	for _, ep := range eps {
		ep.running = 1
		s.readers.Add(1)
		go s.read(ep)
	}
	if len(eps) == 0 {
		s.log.Warn("the registry has no patterns; register them before the server starts")
	}
	s.log.Info("serving patterns on NATS",
		zap.String("service", s.cfg.name), zap.String("id", s.id),
		zap.String("queue_group", s.cfg.queueGroup), zap.Int("subjects", len(eps)))
	return nil
}

func (s *Server) unsubscribeAll() {
	for _, sub := range append(s.subs, s.discovery...) {
		_ = sub.Unsubscribe() // fails only on a closed connection, which has dropped it
	}
	s.subs, s.discovery = nil, nil
}

// Stop stops serving: discovery ends at once; each pattern's subscription
// is drained, so messages already delivered to this instance are still
// handled and answered; then Stop waits for running calls. When ctx ends
// first, handler contexts are cancelled and Stop returns an error. The
// connection stays open; close or drain it afterwards. Stop before Start,
// or a second Stop, does nothing.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateStarted {
		s.mu.Unlock()
		return nil
	}
	s.state = stateStopped
	s.mu.Unlock()
	defer s.cancel()

	for _, sub := range s.discovery {
		_ = sub.Unsubscribe()
	}
	if err := s.drain(ctx); err != nil {
		s.cancel()
		return err
	}
	done := make(chan struct{})
	go func() { s.readers.Wait(); close(done) }()
	select {
	case <-done:
		s.log.Info("stopped serving patterns on NATS", zap.String("service", s.cfg.name), zap.String("id", s.id))
		return nil
	case <-ctx.Done():
		return fmt.Errorf("natstransport: calls still running at the stop deadline, their contexts are cancelled: %w", ctx.Err())
	}
}

// drain drains every pattern subscription and waits until each is closed.
// Without a live connection nothing can arrive or be answered, so when the
// connection is down, or goes down meanwhile, it only unsubscribes.
func (s *Server) drain(ctx context.Context) error {
	lost := s.nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	defer s.nc.RemoveStatusListener(lost)
	unsubscribe := func() {
		for _, sub := range s.subs {
			_ = sub.Unsubscribe()
		}
	}
	if !s.nc.IsConnected() {
		unsubscribe()
		return nil
	}
	var closed []<-chan nats.SubStatus
	for _, sub := range s.subs {
		ch := sub.StatusChanged(nats.SubscriptionClosed)
		if err := sub.Drain(); err != nil {
			_ = sub.Unsubscribe()
			continue
		}
		closed = append(closed, ch)
	}
	for _, ch := range closed {
		select {
		case <-ch:
		case <-lost:
			unsubscribe()
			return nil
		case <-ctx.Done():
			unsubscribe()
			return fmt.Errorf("natstransport: subscriptions not drained at the stop deadline: %w", ctx.Err())
		}
	}
	return nil
}

// handoffAfter is how long a message may be handled on the reading
// goroutine before another goroutine takes over reading.
const handoffAfter = 100 * time.Microsecond

// read reads ep's subscription until it closes, handling each message on
// this goroutine (see handleInline), or until it hands reading over.
func (s *Server) read(ep *endpoint) {
	defer s.readers.Done()
	defer ep.exit()
	for {
		var err error
		for m, merr := range ep.sub.Msgs() {
			if merr != nil {
				err = merr
				break
			}
			if !s.handleInline(ep, m) {
				return // another goroutine reads now
			}
		}
		if !errors.Is(err, nats.ErrSlowConsumer) {
			return // the subscription is closed: drained or unsubscribed
		}
		s.log.Warn("messages dropped: the service falls behind; raise MaxInFlight or run more instances", zap.String("subject", ep.subject))
	}
}

// handleInline handles m on the reading goroutine, which saves a goroutine
// and a wake-up per call, and reports whether this goroutine still reads
// afterwards. If the handler is still running after handoffAfter, a
// timer's goroutine takes over reading (up to MaxInFlight goroutines), so a
// slow call never holds up the next.
func (s *Server) handleInline(ep *endpoint, m *nats.Msg) bool {
	ep.rmu.Lock()
	ep.inline = true
	ep.episode++
	mine := ep.episode
	ep.armed = mine
	if ep.timer == nil {
		ep.timer = time.AfterFunc(handoffAfter, func() { s.handoff(ep) })
	} else {
		ep.timer.Reset(handoffAfter)
	}
	ep.rmu.Unlock()

	start := time.Now()
	err := s.handle(ep, m)
	ep.record(time.Since(start), err)

	ep.rmu.Lock()
	defer ep.rmu.Unlock()
	if ep.inline && ep.episode == mine {
		ep.inline = false
		ep.timer.Stop()
		return true
	}
	return false // handed off; the new reader owns the timer
}

// handoff runs on the timer's goroutine when a handler is slow: unless the
// endpoint already runs MaxInFlight goroutines, it becomes the reader.
func (s *Server) handoff(ep *endpoint) {
	ep.rmu.Lock()
	if !ep.inline || ep.armed != ep.episode || ep.running >= s.cfg.maxInFlight {
		ep.rmu.Unlock()
		return
	}
	ep.inline = false
	ep.running++
	ep.rmu.Unlock()
	s.readers.Add(1) // the slow handler's goroutine still counts, so Stop is not done waiting
	s.read(ep)
}

// handle serves one message and returns the error it answered or logged,
// for the stats.
//
// A message with an id, or with a reply subject, is a request: the message
// handler runs and its result or error is the reply (when there is a reply
// subject). A message with neither is an event: the event handlers run and
// nothing is sent back.
func (s *Server) handle(ep *endpoint, m *nats.Msg) error {
	in, perr := decodeIncoming(m.Data)
	if perr != nil {
		s.log.Warn("malformed message", zap.String("subject", m.Subject), zap.Bool("has_reply", m.Reply != ""), zap.Error(perr))
		s.replyError(m, nil, perr)
		return perr
	}
	request := in.ID != nil || m.Reply != ""
	ctx, md, herr := incomingContext(s.ctx, m.Header, in.ID, s.cfg.trustIdentity)
	if herr != nil {
		s.log.Warn("message with a bad identity header", zap.String("subject", m.Subject), zap.Error(herr))
		if request {
			s.replyError(m, in.ID, herr)
		}
		return herr
	}
	call := msregistry.Incoming{Transport: Transport, Pattern: ep.pattern, Payload: json.RawMessage(in.Data), Metadata: md}
	if !request {
		if err := s.reg.Emit(ctx, call); err != nil {
			s.log.Warn("event not handled", zap.String("subject", m.Subject), zap.Error(err))
			return err
		}
		return nil
	}
	// One allocation for the reply in the common case: a result about the
	// size of its input.
	buf := make([]byte, 0, len(in.Data)+len(in.ID)+replyOverhead)
	reply, err := s.reg.AppendCall(ctx, appendResponseHead(buf, in.ID), call)
	if err != nil {
		var e *msregistry.Error
		if !errors.As(err, &e) {
			e = msregistry.NewError(msregistry.CodeInternal, "internal error")
		}
		s.replyError(m, in.ID, e)
		return err
	}
	if m.Reply != "" {
		if err := m.Respond(appendResponseTail(reply)); err != nil {
			s.log.Warn("reply failed", zap.String("subject", m.Subject), zap.Error(err))
		}
	}
	return nil
}

// replyOverhead is what a reply packet adds around its id and response.
const replyOverhead = 64

// replyError answers m with an error reply when m has a reply subject. The
// reply also carries micro's error headers, so NATS tooling shows the
// error.
func (s *Server) replyError(m *nats.Msg, id []byte, e *msregistry.Error) {
	if m.Reply == "" {
		return
	}
	r := &nats.Msg{
		Subject: m.Reply,
		Data:    appendErrorReply(nil, id, e),
		Header:  nats.Header{micro.ErrorHeader: {e.Message}, micro.ErrorCodeHeader: {e.Code}},
	}
	if err := s.nc.PublishMsg(r); err != nil {
		s.log.Warn("error reply failed", zap.String("subject", m.Subject), zap.Error(err))
	}
}
