package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

// binDir holds the command the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "microservices-example")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// binary builds the command once per test run.
var binary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "microservices")
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func build(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// env returns the environment for the command with NATS_URL set to url,
// or removed when url is "".
func env(url string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NATS_URL=") && !strings.HasPrefix(kv, "APP_NAME=") {
			out = append(out, kv)
		}
	}
	if url != "" {
		out = append(out, "NATS_URL="+url)
	}
	return out
}

// result is what one command run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs the command with args against url and waits for it.
func runCmd(t *testing.T, url string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, build(t), args...)
	cmd.Env = env(url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// startServe runs `serve` against url ("" for its embedded server) until
// the test ends, then stops it with SIGINT and checks that it exits 0. It
// returns the URL callers use.
func startServe(t *testing.T, url string) string {
	t.Helper()
	cmd := exec.Command(build(t), "serve")
	cmd.Env = env(url)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs strings.Builder
	embedded := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		urlRE := regexp.MustCompile(`nats: embedded server listening on (nats://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				embedded <- m[1]
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("serve exited with %v after SIGINT\n%s", err, logs.String())
			}
			if !strings.Contains(logs.String(), "nats: connection drained") {
				t.Errorf("serve did not drain NATS on stop\n%s", logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("serve did not stop within 30s of SIGINT")
		}
	})
	if url == "" {
		select {
		case url = <-embedded:
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, logs.String())
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not log its embedded server's URL")
		}
	}
	// Serving once app.info answers.
	deadline := time.Now().Add(30 * time.Second)
	for runCmd(t, url, "call", "app.info", "null").code != 0 {
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("serve not answering after 30s\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

// startNATS starts a nats-server for the commands on 127.0.0.1.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func TestCallAndEmitAgainstServe(t *testing.T) {
	ns := startNATS(t)
	url := startServe(t, ns.ClientURL())

	for _, tc := range []struct {
		pattern, payload string
		stdout           string
		code             int
	}{
		{"app.info", "null", `{"app_name":"fxforge","transport":"nats"}`, 0},
		{"math.sum", "[1,2,3.5]", `6.5`, 0},
		{"math.sum", "[]", `0`, 0},
		{"math.sum", `"not numbers"`, `{"code":"bad_request","message":"math.sum takes an array of numbers, e.g. [1,2,3]"}`, 1},
		{"math.sum", `{"a":1}`, `{"code":"bad_request","message":"math.sum takes an array of numbers, e.g. [1,2,3]"}`, 1},
		{`{"cmd":"object.pattern"}`, "{}", `"ok"`, 0},
		{"fail", "null", `{"code":"boom","message":"failed on purpose"}`, 1},
		{"app.pings", "null", `0`, 0},
	} {
		t.Run(tc.pattern+" "+tc.payload, func(t *testing.T) {
			r := runCmd(t, url, "call", tc.pattern, tc.payload)
			if r.code != tc.code || strings.TrimSpace(r.stdout) != tc.stdout {
				t.Fatalf("call %s %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %s", tc.pattern, tc.payload, r.code, r.stdout, r.stderr, tc.code, tc.stdout)
			}
		})
	}

	for range 3 {
		if r := runCmd(t, url, "emit", "app.ping", "null"); r.code != 0 {
			t.Fatalf("emit: exit %d, stderr %q", r.code, r.stderr)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := runCmd(t, url, "call", "app.pings", "null")
		if strings.TrimSpace(r.stdout) == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("app.pings = %q after three emits", r.stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeWithoutNATS_URLRunsAnEmbeddedServer(t *testing.T) {
	url := startServe(t, "")
	r := runCmd(t, url, "call", "app.info", "{}")
	if r.code != 0 || !strings.Contains(r.stdout, `"transport":"nats"`) {
		t.Fatalf("call app.info against serve's embedded server: %+v", r)
	}
}

func TestRunWithoutArgumentsCallsEveryPattern(t *testing.T) {
	r := runCmd(t, "")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want := `app.info null -> {"app_name":"fxforge","transport":"nats"}
math.sum [1,2,3.5] -> 6.5
math.sum "not numbers" -> error bad_request: math.sum takes an array of numbers, e.g. [1,2,3]
{"cmd":"object.pattern"} {} -> "ok"
fail null -> error boom: failed on purpose
emit app.ping null (3 times)
app.pings null -> 3
`
	if r.stdout != want {
		t.Fatalf("stdout\n%s\nwant\n%s", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "nats: embedded server listening on nats://127.0.0.1:") {
		t.Fatalf("the log does not say NATS is embedded:\n%s", r.stderr)
	}
}

func TestCommandErrorsExit2WithAClearMessage(t *testing.T) {
	ns := startNATS(t)
	for _, tc := range []struct {
		name, url string
		args      []string
		stderr    string
	}{
		{"unknown command", ns.ClientURL(), []string{"frobnicate"}, "usage:"},
		{"call without NATS_URL", "", []string{"call", "app.info", "null"}, "NATS_URL is not set"},
		{"payload that is not JSON", ns.ClientURL(), []string{"call", "app.info", "hello"}, "is not JSON"},
		{"nothing serves the pattern", ns.ClientURL(), []string{"call", "nobody.home", "null"}, "no responders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.url, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.stderr)
			}
		})
	}
}
