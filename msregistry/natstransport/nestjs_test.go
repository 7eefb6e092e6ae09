package natstransport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// nestjsDir holds the Node project with the NestJS 12 packages
// (@nestjs/microservices 12 and its NATS client, @nats-io/transport-node).
var nestjsDir = filepath.Join("testdata", "nestjs")

// inCI reports whether the CI environment variable says this is CI.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// requireNode returns the node binary once the NestJS packages are
// installed. Elsewhere than CI it skips the test when they are not; in CI
// it fails it, so CI never passes without the interop tests.
func requireNode(t *testing.T) string {
	t.Helper()
	var missing string
	node, err := exec.LookPath("node")
	switch {
	case err != nil:
		missing = "node (Node.js 20 or newer) is not on PATH"
	default:
		if _, err := os.Stat(filepath.Join(nestjsDir, "node_modules", "@nestjs", "microservices", "package.json")); err != nil {
			missing = "the NestJS packages are not installed"
		}
	}
	if missing == "" {
		return node
	}
	msg := missing + "; run `bash msregistry/natstransport/testdata/nestjs/install.sh` to run the NestJS interop tests"
	if inCI() {
		t.Fatal(msg + " (CI is set: .ci/run installs them)")
	}
	t.Skip(msg)
	return ""
}

// runNode runs a script of the Node project and returns its stdout.
func runNode(t *testing.T, node string, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = nestjsDir
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

func TestNestJSClientCallsGoHandlers(t *testing.T) {
	node := requireNode(t)
	ns := startNATS(t, -1)
	svc := newService(t)
	serve(t, connect(t, ns), svc.reg)

	out := runNode(t, node, nil, "client.mjs", ns.ClientURL())
	var results map[string]struct {
		Response json.RawMessage `json:"response"`
		Error    json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("client.mjs printed %s: %v", out, err)
	}
	for _, tc := range []struct{ name, response, error string }{
		{name: "app.info", response: `{"app_name":"natstransport-test","transport":"nats"}`},
		{name: "math.sum", response: `6.5`},
		{name: "math.sum.bad", error: `{"code":"bad_request","message":"math.sum takes an array of numbers, e.g. [1,2,3]"}`},
		{name: "object.pattern", response: `"ok"`},
		{name: "fail", error: `{"code":"boom","message":"failed on purpose"}`},
		{name: "app.pings", response: `3`},
	} {
		got, ok := results[tc.name]
		if !ok {
			t.Errorf("%s: no result in %s", tc.name, out)
			continue
		}
		if string(got.Response) != tc.response && !(tc.response == "" && got.Response == nil) {
			t.Errorf("%s: response %s, want %s", tc.name, got.Response, tc.response)
		}
		if string(got.Error) != tc.error && !(tc.error == "" && got.Error == nil) {
			t.Errorf("%s: error %s, want %s", tc.name, got.Error, tc.error)
		}
	}
	var ctxSeen seen
	if err := json.Unmarshal(results["context"].Response, &ctxSeen); err != nil || ctxSeen.Metadata["tenant"] != "acme" {
		t.Errorf("context: %s (%v); want the NestJS header tenant=acme as metadata", results["context"].Response, err)
	}
}

func TestGoClientCallsNestJSHandlers(t *testing.T) {
	node := requireNode(t)
	ns := startNATS(t, -1)
	startNestJSServer(t, node, ns.ClientURL())
	client := natstransport.NewClient(connect(t, ns))
	ctx := testCtx(t)

	got, err := client.Send(ctx, "nest.hello", map[string]string{"name": "go"})
	if err != nil || string(got) != `{"greeting":"hello go"}` {
		t.Fatalf("nest.hello: %s, %v", got, err)
	}
	// The keys in another order than NestJS's decorator: the subject is the
	// same.
	sum, err := msregistry.Send[int](ctx, client, `{"role":"math","cmd":"nest.sum"}`, []int{1, 2, 3})
	if err != nil || sum != 6 {
		t.Fatalf("nest.sum: %d, %v", sum, err)
	}

	for _, tc := range []struct{ pattern, code, message string }{
		{"nest.fail", "nest_failed", "nest failed on purpose"}, // RpcException({code, message})
		{"nest.plain", "error", "plain failure"},               // RpcException("...")
	} {
		_, err := client.Send(ctx, tc.pattern, map[string]any{})
		var remote *natstransport.RemoteError
		var rpcErr *msregistry.Error
		if !errors.As(err, &remote) || !errors.As(err, &rpcErr) {
			t.Fatalf("%s: error %v (%T), want a *RemoteError", tc.pattern, err, err)
		}
		if rpcErr.Code != tc.code || rpcErr.Message != tc.message {
			t.Fatalf("%s: %q %q, want %q %q (raw %s)", tc.pattern, rpcErr.Code, rpcErr.Message, tc.code, tc.message, remote.Raw)
		}
	}

	for range 2 {
		if err := client.Emit(ctx, "nest.event", map[string]any{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, func() error {
		n, err := msregistry.Send[int](ctx, client, "nest.events", map[string]any{})
		if err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("NestJS handled %d events, want 2", n)
		}
		return nil
	})
}

// startNestJSServer runs server.mjs until the test ends.
func startNestJSServer(t *testing.T, node, url string) {
	t.Helper()
	cmd := exec.Command(node, "server.mjs", url)
	cmd.Dir = nestjsDir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // server.mjs closes the app and exits
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("server.mjs exited before it was ready: %v\n%s", err, stderr.Bytes())
	case <-time.After(30 * time.Second):
		t.Fatalf("server.mjs not ready after 30s\n%s", stderr.Bytes())
	}
}

func TestSubjectMatchesNestJSRoutes(t *testing.T) {
	node := requireNode(t)
	var in []json.RawMessage
	for _, tc := range subjectCases {
		if strings.HasPrefix(tc.pattern, "{") {
			in = append(in, json.RawMessage(tc.pattern))
			continue
		}
		b, _ := json.Marshal(tc.pattern)
		in = append(in, b)
	}
	stdin, _ := json.Marshal(in)
	out := runNode(t, node, stdin, "routes.mjs")
	var routes []string
	if err := json.Unmarshal(out, &routes); err != nil || len(routes) != len(subjectCases) {
		t.Fatalf("routes.mjs printed %s: %v", out, err)
	}
	for i, tc := range subjectCases {
		got, err := natstransport.Subject(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got != routes[i] {
			t.Errorf("Subject(%s) = %s, NestJS says %s", tc.pattern, got, routes[i])
		}
	}
}
