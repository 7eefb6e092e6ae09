package fxnats_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/internal/natstest"
)

// startNATS starts a nats-server outside any app, on 127.0.0.1 and port
// (-1 for a random one), and stops it when the test ends.
func startNATS(t *testing.T, port int) *server.Server { return natstest.Start(t, port) }

// app is an fxtest app with fxnats and an observed logger; it returns the
// app's connection, its Info and the logs.
func app(t *testing.T, opts ...fx.Option) (*fxtest.App, *nats.Conn, *fxnats.Info, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	var nc *nats.Conn
	var info *fxnats.Info
	a := fxtest.New(t, append([]fx.Option{fx.NopLogger, fx.Supply(zap.New(core)), fx.Populate(&nc, &info)}, opts...)...)
	return a, nc, info, logs
}

// logged reports whether a message starting with prefix was logged.
func logged(logs *observer.ObservedLogs, prefix string) bool {
	for _, e := range logs.All() {
		if strings.HasPrefix(e.Message, prefix) {
			return true
		}
	}
	return false
}

func TestWithoutAURLAnEmbeddedServerStarts(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	a, nc, info, logs := app(t, fxnats.Module)
	a.RequireStart()
	defer a.RequireStop()

	if !info.Embedded() || !strings.HasPrefix(info.URL(), "nats://127.0.0.1:") {
		t.Fatalf("Info: embedded %v, URL %q; want an embedded server on 127.0.0.1", info.Embedded(), info.URL())
	}
	if !nc.IsConnected() || nc.ConnectedUrl() != info.URL() {
		t.Fatalf("connection to %q, connected %v; want %q", nc.ConnectedUrl(), nc.IsConnected(), info.URL())
	}
	if want := "nats: embedded server listening on " + info.URL(); !logged(logs, want) {
		t.Fatalf("no log %q in %v", want, logs.All())
	}
}

func TestNATS_URLConnectsToThatServer(t *testing.T) {
	ns := startNATS(t, -1)
	t.Setenv(fxnats.EnvURL, ns.ClientURL())
	a, nc, info, logs := app(t, fxnats.Connection())
	a.RequireStart()
	defer a.RequireStop()

	if info.Embedded() || info.URL() != ns.ClientURL() || nc.ConnectedServerId() != ns.ID() {
		t.Fatalf("connected to %q (embedded %v), want the external server %q", info.URL(), info.Embedded(), ns.ClientURL())
	}
	if want := "nats: connected to " + ns.ClientURL(); !logged(logs, want) {
		t.Fatalf("no log %q in %v", want, logs.All())
	}
}

func TestURLOptionWinsOverNATS_URL(t *testing.T) {
	ns := startNATS(t, -1)
	t.Setenv(fxnats.EnvURL, "nats://127.0.0.1:1")
	a, nc, _, _ := app(t, fxnats.Connection(fxnats.URL(ns.ClientURL())))
	a.RequireStart()
	defer a.RequireStop()
	if nc.ConnectedServerId() != ns.ID() {
		t.Fatal("not connected to the server of fxnats.URL")
	}
}

func TestAURLThatDoesNotAnswerFailsStart(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name, env string
		opts      []fxnats.Option
		want      []string
	}{
		{"from NATS_URL", "nats://alice:s3cret@" + dead, nil, []string{"NATS_URL", "nats://***@" + dead, "unset it"}},
		{"from the URL option", "", []fxnats.Option{fxnats.URL("nats://" + dead)}, []string{"fxnats.URL", dead}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(fxnats.EnvURL, tc.env)
			var nc *nats.Conn
			a := fx.New(fx.NopLogger, fxnats.Connection(tc.opts...), fx.Populate(&nc))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := a.Start(ctx)
			if err == nil {
				_ = a.Stop(ctx)
				t.Fatal("app started without a NATS server")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "alice") {
				t.Errorf("error %q shows the credentials", err)
			}
		})
	}
}

func TestStopDeliversWhatWasPublishedBeforeIt(t *testing.T) {
	ns := startNATS(t, -1)
	sub, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := make(chan *nats.Msg, 1000)
	if _, err := sub.ChanSubscribe("drain.test", got); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}

	a, nc, _, _ := app(t, fxnats.Connection(fxnats.URL(ns.ClientURL())))
	a.RequireStart()
	const n = 500
	for i := range n {
		// No flush: the messages may still sit in the client's buffer when
		// Stop begins; the drain sends them.
		if err := nc.Publish("drain.test", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	a.RequireStop()
	if !nc.IsClosed() {
		t.Fatal("connection still open after stop")
	}
	for i := range n {
		select {
		case m := <-got:
			if string(m.Data) != fmt.Sprint(i) {
				t.Fatalf("message %d is %q", i, m.Data)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d messages published before stop", i, n)
		}
	}
}

func TestASecondAppSharesTheEmbeddedServer(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "")
	a1, nc1, info1, _ := app(t, fxnats.Module)
	a1.RequireStart()
	defer a1.RequireStop()

	a2, nc2, info2, _ := app(t, fxnats.Connection(fxnats.URL(info1.URL())))
	a2.RequireStart()
	defer a2.RequireStop()
	if info2.Embedded() {
		t.Fatal("the second app started a server of its own")
	}

	s, err := nc1.SubscribeSync("shared")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc1.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc2.Publish("shared", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.NextMsg(10 * time.Second); err != nil || string(m.Data) != "hi" {
		t.Fatalf("app 1 got %v, %v", m, err)
	}
}

func TestDisconnectsAndReconnectsAreLogged(t *testing.T) {
	ns := startNATS(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	a, nc, _, logs := app(t, fxnats.Connection(fxnats.URL(ns.ClientURL()), fxnats.ReconnectWait(50*time.Millisecond)))
	a.RequireStart()
	defer a.RequireStop()

	ns.Shutdown()
	ns.WaitForShutdown()
	startNATS(t, port)

	deadline := time.Now().Add(20 * time.Second)
	for !logged(logs, "nats: reconnected to ") || !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect: %v", logs.All())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, e := range logs.All() {
		if strings.HasPrefix(e.Message, "nats: disconnected") && e.Level != zap.WarnLevel {
			t.Fatalf("disconnect logged at %v, want warn", e.Level)
		}
	}
	if !logged(logs, "nats: disconnected") {
		t.Fatal("the disconnect was not logged")
	}
}

func TestEmbeddedWinsOverNATS_URL(t *testing.T) {
	t.Setenv(fxnats.EnvURL, "nats://127.0.0.1:1")
	a, _, info, _ := app(t, fxnats.Connection(fxnats.Embedded()))
	a.RequireStart()
	defer a.RequireStop()
	if !info.Embedded() {
		t.Fatal("fxnats.Embedded did not start an embedded server")
	}
}

// stateEvents is an fxforge.NATSObserver that sends what it is told.
type stateEvents chan string

func (e stateEvents) Connected()    { e <- "connected" }
func (e stateEvents) Disconnected() { e <- "disconnected" }
func (e stateEvents) Reconnected()  { e <- "reconnected" }

// next fails unless the next event, within a generous deadline, is want.
func (e stateEvents) next(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-e:
		if got != want {
			t.Fatalf("observer told %q, want %q", got, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("observer not told %q", want)
	}
}

func TestConnectionReportsItsStateToTheNATSObserverInTheGraph(t *testing.T) {
	ns := startNATS(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	events := make(stateEvents, 16)
	a, _, _, _ := app(t,
		fx.Supply(fx.Annotate(events, fx.As(new(fxforge.NATSObserver)))),
		fxnats.Connection(fxnats.URL(ns.ClientURL()), fxnats.ReconnectWait(50*time.Millisecond)),
	)
	a.RequireStart()
	events.next(t, "connected")

	natstest.Stop(ns)
	events.next(t, "disconnected")
	startNATS(t, port)
	events.next(t, "reconnected")

	a.RequireStop()
	events.next(t, "disconnected")
	select {
	case e := <-events:
		t.Fatalf("observer told %q after the connection closed", e)
	default:
	}
}
