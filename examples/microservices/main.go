// Command microservices serves message and event patterns over NATS, in
// NestJS's NATS wire format, and calls them:
//
//	go run ./examples/microservices                      # embedded NATS, the service, and a caller that calls every pattern
//	go run ./examples/microservices serve                # serve on NATS_URL (embedded server when unset) until stopped
//	go run ./examples/microservices call PATTERN JSON    # print the reply payload as JSON
//	go run ./examples/microservices emit PATTERN JSON    # publish an event
//
// The patterns:
//
//	app.info                  -> {"app_name":"fxforge","transport":"nats"} (APP_NAME sets the name)
//	math.sum                  -> the sum of an array of numbers; anything else: error bad_request
//	{"cmd":"object.pattern"}  -> "ok"
//	fail                      -> error {"code":"boom","message":"failed on purpose"}
//	app.ping (event)          -> counted
//	app.pings                 -> how many app.ping events this instance handled
//
// call and emit need NATS_URL; serve prints the URL of its embedded server.
// A PATTERN that starts with '{' is an object pattern. call prints the
// reply payload as JSON and exits 0; on a remote error it prints the error
// as JSON, {"code":...,"message":...}, and exits 1. Any other failure
// (usage, no NATS, nothing serving the pattern, timeout) goes to stderr
// with exit code 2.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxnats"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// Exit codes of the commands.
const (
	exitOK          = 0
	exitRemoteError = 1
	exitFailure     = 2
)

const usage = `usage:
  microservices                     run NATS, the service and a caller that calls every pattern
  microservices serve               serve the patterns on NATS_URL (embedded server when unset)
  microservices call PATTERN JSON   call a message pattern, print the reply payload as JSON
  microservices emit PATTERN JSON   publish an event
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		return demo(stdout, stderr)
	case args[0] == "serve" && len(args) == 1:
		return serve()
	case args[0] == "call" && len(args) == 3:
		return call(args[1], args[2], stdout, stderr)
	case args[0] == "emit" && len(args) == 3:
		return emit(args[1], args[2], stderr)
	default:
		fmt.Fprint(stderr, usage)
		return exitFailure
	}
}

// Pings counts the app.ping events this instance handled.
type Pings struct{ n atomic.Int64 }

// AppInfo is the reply to app.info.
type AppInfo struct {
	AppName   string `json:"app_name"`
	Transport string `json:"transport"`
}

// registerPatterns registers the service's message and event patterns.
// APP_NAME, read when the app starts, is the name app.info reports.
func registerPatterns(reg *msregistry.Registry, pings *Pings) error {
	name := os.Getenv("APP_NAME")
	if name == "" {
		name = "fxforge"
	}
	return errors.Join(
		msregistry.Message(reg, "app.info", func(ctx context.Context, _ any) (AppInfo, error) {
			call, _ := msregistry.CallFrom(ctx)
			return AppInfo{AppName: name, Transport: call.Transport}, nil
		}),
		msregistry.Message(reg, "math.sum", sum),
		msregistry.Message(reg, `{"cmd":"object.pattern"}`, func(context.Context, any) (string, error) {
			return "ok", nil
		}),
		msregistry.Message(reg, "fail", func(context.Context, any) (any, error) {
			return nil, msregistry.NewError("boom", "failed on purpose")
		}),
		msregistry.Event(reg, "app.ping", func(context.Context, any) error {
			pings.n.Add(1)
			return nil
		}),
		msregistry.Message(reg, "app.pings", func(context.Context, any) (int64, error) {
			return pings.n.Load(), nil
		}),
	)
}

// sum adds up an array of numbers.
func sum(_ context.Context, in json.RawMessage) (float64, error) {
	var xs []float64
	if err := json.Unmarshal(in, &xs); err != nil || xs == nil {
		return 0, msregistry.NewError("bad_request", "math.sum takes an array of numbers, e.g. [1,2,3]")
	}
	var total float64
	for _, x := range xs {
		total += x
	}
	return total, nil
}

// Service is the microservice: the registry with its patterns, served on
// the app's NATS connection. The app adds the logger and the connection.
var Service = fx.Options(
	fx.Supply(new(Pings)),
	fxforge.Microservices(),
	fxforge.Patterns(registerPatterns),
	fxnats.Microservice(natstransport.Name("microservices-example")),
)

// serve runs the service until it gets SIGINT or SIGTERM.
func serve() int {
	app := fx.New(
		fxforge.Logger(),
		fxnats.Module,
		Service,
		fx.Invoke(logHowToCall),
	)
	app.Run()
	return exitOK
}

// logHowToCall logs, once the service runs on an embedded server, the
// command that calls it.
func logHowToCall(lc fx.Lifecycle, info *fxnats.Info, log *zap.Logger) {
	lc.Append(fx.StartHook(func() {
		if info.Embedded() {
			log.Info("call it with: NATS_URL=" + info.URL() + " go run ./examples/microservices call app.info null")
		}
	}))
}

// demo runs the service on an embedded server and calls every pattern.
func demo(stdout, stderr io.Writer) int {
	var client msregistry.Client
	app := fx.New(
		fxforge.Logger(),
		fxnats.Connection(fxnats.Embedded()),
		Service,
		fxnats.Client(),
		fx.Populate(&client),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	defer app.Stop(ctx)

	show := func(pattern, payload string) {
		fmt.Fprintf(stdout, "%s %s -> ", pattern, payload)
		out, err := client.Send(ctx, pattern, json.RawMessage(payload))
		var rpcErr *msregistry.Error
		switch {
		case errors.As(err, &rpcErr):
			fmt.Fprintf(stdout, "error %s: %s\n", rpcErr.Code, rpcErr.Message)
		case err != nil:
			fmt.Fprintf(stdout, "failed: %v\n", err)
		default:
			fmt.Fprintf(stdout, "%s\n", out)
		}
	}
	show("app.info", "null")
	show("math.sum", "[1,2,3.5]")
	show("math.sum", `"not numbers"`)
	show(`{"cmd":"object.pattern"}`, "{}")
	show("fail", "null")

	for range 3 {
		if err := client.Emit(ctx, "app.ping", nil); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
	}
	fmt.Fprintln(stdout, "emit app.ping null (3 times)")
	// Events and messages are served concurrently: wait until the three
	// events are counted.
	for {
		n, err := msregistry.Send[int](ctx, client, "app.pings", nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		if n >= 3 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	show("app.pings", "null")
	return exitOK
}

// prepare checks that arg is JSON and connects to NATS_URL, for call and
// emit.
func prepare(arg string) (json.RawMessage, *nats.Conn, error) {
	if !json.Valid([]byte(arg)) {
		return nil, nil, fmt.Errorf("payload %q is not JSON; quote strings, e.g. '\"text\"', or pass null", arg)
	}
	url := os.Getenv(fxnats.EnvURL)
	if url == "" {
		return nil, nil, errors.New("NATS_URL is not set: start `go run ./examples/microservices serve` and set NATS_URL to the URL it prints")
	}
	nc, err := nats.Connect(url, nats.Name("microservices-example-cli"))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS_URL: %w", err)
	}
	return json.RawMessage(arg), nc, nil
}

func call(pattern, arg string, stdout, stderr io.Writer) int {
	data, nc, err := prepare(arg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	defer nc.Close()

	out, err := natstransport.NewClient(nc).Send(context.Background(), pattern, data)
	var rpcErr *msregistry.Error
	switch {
	case errors.As(err, &rpcErr):
		b, _ := json.Marshal(map[string]string{"code": rpcErr.Code, "message": rpcErr.Message})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitRemoteError
	case err != nil:
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return exitOK
}

func emit(pattern, arg string, stderr io.Writer) int {
	data, nc, err := prepare(arg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	defer nc.Close()
	if err := natstransport.NewClient(nc).Emit(context.Background(), pattern, data); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	// Emit hands the event to the connection; Flush waits until the NATS
	// server has it.
	if err := nc.Flush(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	return exitOK
}
