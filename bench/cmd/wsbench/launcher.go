package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Bounds on a server process's start and stop.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
)

// launcher starts the server processes of one invocation, one fresh process
// per measurement, pinned to the server core when pinning is on: the kinds
// of "wsbench server" (this binary re-executed) and the hello example's
// builds.
type launcher struct {
	pin      pinning
	examples map[string]string // binary by example kind (kindHello, kindMetricsOn, kindMetricsOff)
}

// serverProc is a running server process.
type serverProc struct {
	kind   string
	cmd    *exec.Cmd
	pid    int
	addr   string // host:port
	wsURL  string
	out    tailBuffer // stdout and stderr; read only after exited is closed
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
}

// start starts a server of the given kind on a free loopback port and waits
// until the port accepts connections. cpuprofile, when set, asks a wsbench
// server kind for a CPU profile; the hello example cannot write one.
func (l *launcher) start(kind, cpuprofile string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &serverProc{kind: kind, exited: make(chan struct{})}
	if isExample(kind) {
		bin := l.examples[kind]
		if bin == "" {
			return nil, fmt.Errorf("no %s binary was built", kind)
		}
		// The example as shipped: only PORT is set.
		s.cmd = l.pin.command(l.pin.server, bin)
		s.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		args := []string{"server", "-kind=" + kind, "-addr=127.0.0.1:" + strconv.Itoa(port)}
		if cpuprofile != "" {
			args = append(args, "-cpuprofile="+cpuprofile)
		}
		s.cmd = l.pin.command(l.pin.server, exe, args...)
		s.cmd.Env = append(os.Environ(), envChild+"=1")
		if os.Getenv("GORACE") == "" {
			// A race-enabled build (the smoke test under -race) would sleep
			// 1 s at every server exit.
			s.cmd.Env = append(s.cmd.Env, "GORACE=atexit_sleep_ms=0")
		}
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s server: %w", kind, err)
	}
	s.pid = s.cmd.Process.Pid // taskset execs the server: same pid
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			s.addr = addr
			s.wsURL = "ws://" + addr + "/ws"
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s server exited before listening on %s: %v\n%s", kind, addr, s.err, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, fmt.Errorf("%s server did not listen on %s within %s:\n%s", kind, addr, startTimeout, s.out.String())
		}
	}
}

// stop sends SIGTERM (every kind stops gracefully on it, writing its
// profile) and waits for the process, killing it after stopTimeout.
func (s *serverProc) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.exited:
		if s.err != nil {
			return fmt.Errorf("%s server exited: %w\n%s", s.kind, s.err, s.out.String())
		}
		return nil
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s server did not exit within %s of SIGTERM; killed\n%s", s.kind, stopTimeout, s.out.String())
	}
}

// freePort returns a TCP port that was free on every address a moment
// ago, chosen below the kernel's ephemeral port range: the load generator's
// own connections take their source ports from that range, and a server
// cannot listen on a port one of them holds.
func freePort() (int, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	first := max(1024, low-20000)
	if first >= low {
		return 0, fmt.Errorf("find a free port: the ephemeral range starts at %d, leaving none below it", low)
	}
	var err error
	for range 100 {
		port := first + rand.IntN(low-first)
		var ln net.Listener
		if ln, err = net.Listen("tcp", ":"+strconv.Itoa(port)); err == nil {
			return port, ln.Close()
		}
	}
	return 0, fmt.Errorf("find a free port below %d: %w", low, err)
}

// tailBuffer keeps the last tailBytes written to it: a server's output,
// for error messages.
type tailBuffer struct{ b []byte }

const tailBytes = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - tailBytes; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
