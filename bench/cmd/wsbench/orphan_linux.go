package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel send cmd SIGTERM when wsbench dies, so a
// crashed run leaves no server behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
