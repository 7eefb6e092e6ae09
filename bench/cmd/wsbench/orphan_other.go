//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux: a server outlives a crashed
// wsbench there.
func dieWithParent(*exec.Cmd) {}
