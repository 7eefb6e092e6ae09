package natsbroker

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/fxforge/fxforge/wsgateway"
)

// DefaultSubject is the NATS subject hubs share when no WithSubject option
// is given.
const DefaultSubject = "fxforge.hub"

// Option configures a Broker.
type Option func(*Broker)

// WithSubject sets the NATS subject the hubs of one app share, instead of
// DefaultSubject. Apps (or environments) that share a NATS server and must
// not see each other's rooms use different subjects. It must be a literal
// subject: dot-separated tokens, no spaces, no "*" or ">" tokens.
func WithSubject(subject string) Option {
	return func(b *Broker) { b.subject = subject }
}

// WithLogger sets the logger that receives the broker's logs (messages on
// the subject that are not hub messages); nil means no logging.
func WithLogger(log *zap.Logger) Option {
	return func(b *Broker) {
		if log == nil {
			log = zap.NewNop()
		}
		b.log = log
	}
}

// WithObserver sets the observer told about every message the broker
// publishes, delivers or drops, for metrics (fxforge/fxmetrics has one);
// nil means none. fxnats.HubBroker sets the app's, when it has one.
func WithObserver(o wsgateway.BrokerObserver) Option {
	return func(b *Broker) {
		if o == nil {
			o = nopObserver{}
		}
		b.obs = o
	}
}

// nopObserver is the observer of a Broker without one.
// WithPendingLimits sets how many messages, and how many bytes of them, the
// broker's subscription may hold while the hub is busy delivering earlier
// ones (nats.go's defaults: 512Ki messages, 64 MiB). Past either, nats.go
// drops new messages, logs a slow consumer and the observer counts each as
// dropped with wsgateway.BrokerSlowConsumer. A negative value means no
// limit; zero is an error.
func WithPendingLimits(msgs, bytes int) Option {
	return func(b *Broker) {
		if msgs == 0 || bytes == 0 {
			b.err = fmt.Errorf("natsbroker: WithPendingLimits(%d, %d): a limit of 0 would drop every message; give a positive limit, or -1 for none", msgs, bytes)
			return
		}
		b.pendingMsgs, b.pendingBytes = msgs, bytes
	}
}

type nopObserver struct{}

func (nopObserver) Published()                         {}
func (nopObserver) Delivered()                         {}
func (nopObserver) Dropped(wsgateway.BrokerDropReason) {}

// validSubject reports whether NATS can publish to subject.
func validSubject(subject string) error {
	ok := subject != "" && !strings.ContainsAny(subject, " \t\r\n")
	for tok := range strings.SplitSeq(subject, ".") {
		ok = ok && tok != "" && tok != "*" && tok != ">"
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%w %q: use dot-separated tokens without spaces or wildcards, such as %q",
		ErrInvalidSubject, subject, DefaultSubject)
}
