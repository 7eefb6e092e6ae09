package main

import (
	"context"
	"fmt"
	"io"
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
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hello-websockets")
	return bin, goBuild(ctx, root, bin)
}

// moduleRoot returns the directory of the fxforge module wsbench runs in,
// checking that it holds the hello example.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("build %s: find the module with go env GOMOD: %w", helloPackage, err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if _, err := os.Stat(filepath.Join(root, helloPackage)); err != nil {
		return "", fmt.Errorf("build %s: not run from inside the fxforge module (%w); run wsbench from the repository or pass -hello=PATH", helloPackage, err)
	}
	return root, nil
}

// goBuild runs "go build [flags] -o bin ./examples/hello-websockets" in the
// module root.
func goBuild(ctx context.Context, root, bin string, flags ...string) error {
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", bin, helloPackage)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// buildExamples builds the hello example's binaries the run o needs into
// dir, by kind. kindHello is -hello when given. The metrics mode compares
// two builds of this tree, so with -hello its "on" side is built as well.
func buildExamples(ctx context.Context, o options, dir string, progress io.Writer) (map[string]string, error) {
	bins := map[string]string{kindHello: o.hello}
	if o.hello == "" && (o.has(modeRTT) || o.has(modeIdle) || o.has(modeMetrics)) {
		fmt.Fprintf(progress, "building %s\n", helloPackage)
		bin, err := buildHello(ctx, dir)
		if err != nil {
			return nil, err
		}
		bins[kindHello] = bin
	}
	if !o.has(modeMetrics) {
		return bins, nil
	}
	bins[kindMetricsOn] = bins[kindHello]
	if o.hello != "" {
		fmt.Fprintf(progress, "building %s (metrics on; -hello is measured in the other modes)\n", helloPackage)
		bin, err := buildHello(ctx, dir)
		if err != nil {
			return nil, err
		}
		bins[kindMetricsOn] = bin
	}
	fmt.Fprintf(progress, "building %s without fxmetrics.Module (go build -overlay)\n", helloPackage)
	off, err := buildHelloWithoutMetrics(ctx, dir)
	if err != nil {
		return nil, err
	}
	bins[kindMetricsOff] = off
	return bins, nil
}
