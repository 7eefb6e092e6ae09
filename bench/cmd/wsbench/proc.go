package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// raiseOpenFiles lifts the soft open-files limit to the hard limit, so one
// process can hold many connections.
func raiseOpenFiles() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

// clockTicks returns the kernel's clock ticks per second (getconf CLK_TCK),
// or 100 when it cannot be asked.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}

// cpuTicks returns utime+stime of process pid, in clock ticks, from
// /proc/PID/stat.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces; the fields
	// after the last ")" start with field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return utime + stime, nil
}

// cpuSample is a process's CPU use up to a moment: user+system time in
// clock ticks (/proc/PID/stat), and how long its threads have been runnable
// but waiting for a CPU (/proc/PID/task/*/schedstat), NaN when the kernel
// does not say.
type cpuSample struct {
	ticks uint64
	wait  float64 // seconds
}

// sampleCPU samples process pid's CPU use.
func sampleCPU(pid int) (cpuSample, error) {
	ticks, err := cpuTicks(pid)
	if err != nil {
		return cpuSample{}, err
	}
	return cpuSample{ticks: ticks, wait: schedWait(pid)}, nil
}

// cpuUse is what a process used between two samples.
type cpuUse struct {
	seconds float64 // on a CPU, user and system
	waited  float64 // runnable but waiting for a CPU: other processes' share
}

func (a cpuSample) until(b cpuSample, clk float64) cpuUse {
	return cpuUse{seconds: float64(b.ticks-a.ticks) / clk, waited: b.wait - a.wait}
}

// schedWait sums the run-queue wait of process pid's threads, in seconds:
// the second field of /proc/PID/task/TID/schedstat, in nanoseconds.
func schedWait(pid int) float64 {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return math.NaN()
	}
	var ns uint64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread has exited
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return math.NaN()
		}
		w, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return math.NaN()
		}
		ns += w
	}
	return float64(ns) / 1e9
}

// rssBytes returns VmRSS of process pid from /proc/PID/status.
func rssBytes(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fs := strings.Fields(v) // "12345 kB"
			if len(fs) < 1 {
				break
			}
			kb, err := strconv.ParseUint(fs[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// pinning says how server and load generator are kept off each other's
// cores.
type pinning struct {
	taskset string // path of taskset, "" for no pinning
	server  string // CPU list for the server, e.g. "0"
	load    string // CPU list for the load generator, e.g. "1"
}

// choosePinning pins the server to core 0 and the load generator to core 1
// when taskset (util-linux) exists and there are at least two CPUs.
func choosePinning(want bool, warn io.Writer) pinning {
	if !want {
		return pinning{}
	}
	// A load generator already re-executed under taskset sees only its own
	// core; the decision was made before.
	if runtime.NumCPU() < 2 && os.Getenv(envPinned) == "" {
		fmt.Fprintln(warn, "wsbench: warning: fewer than 2 CPUs; server and load generator are not pinned and share the CPU")
		return pinning{}
	}
	p, err := exec.LookPath("taskset")
	if err != nil {
		fmt.Fprintln(warn, "wsbench: warning: taskset (util-linux) not found; server and load generator are not pinned to separate cores")
		return pinning{}
	}
	return pinning{taskset: p, server: "0", load: "1"}
}

// command returns an exec.Cmd running name args on cpus when pinning is
// on.
func (p pinning) command(cpus, name string, args ...string) *exec.Cmd {
	if p.taskset == "" {
		return exec.Command(name, args...)
	}
	return exec.Command(p.taskset, append([]string{"-c", cpus, name}, args...)...)
}
