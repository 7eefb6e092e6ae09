package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// helloPackage is the example wsbench measures as users run it.
const helloPackage = "./examples/hello-websockets"

// buildHello builds examples/hello-websockets into dir, as a user would
// with go build, and returns the binary's path.
func buildHello(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("build %s: find the module with go env GOMOD: %w", helloPackage, err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if _, err := os.Stat(filepath.Join(root, helloPackage)); err != nil {
		return "", fmt.Errorf("build %s: not run from inside the fxforge module (%w); run wsbench from the repository or pass -hello=PATH", helloPackage, err)
	}
	bin := filepath.Join(dir, "hello-websockets")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, helloPackage)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", helloPackage, err, out)
	}
	return bin, nil
}
