package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// The lines of examples/hello-websockets/main.go that turn metrics on. The
// metrics-off build is the same main.go without them; when the example
// changes, these must follow it.
const (
	metricsImportLine = `"github.com/fxforge/fxforge/fxforge/fxmetrics"`
	metricsOptionLine = `fxmetrics.Module,`
	metricsPackage    = "fxmetrics"
)

// helloMain is the file of the hello example the metrics-off build
// replaces, relative to the module root.
var helloMain = filepath.Join(helloPackage, "main.go")

// buildHelloWithoutMetrics builds examples/hello-websockets without
// fxmetrics.Module into dir and returns the binary's path. Nothing is
// written into the repository: go build -overlay reads a patched copy of
// main.go from dir in place of the example's own.
func buildHelloWithoutMetrics(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	mainFile := filepath.Join(root, helloMain)
	src, err := os.ReadFile(mainFile)
	if err != nil {
		return "", fmt.Errorf("build %s without metrics: %w", helloPackage, err)
	}
	patched, err := withoutMetrics(src)
	if err != nil {
		return "", fmt.Errorf("build %s without metrics: %s: %w", helloPackage, helloMain, err)
	}
	offDir := filepath.Join(dir, "metrics-off")
	if err := os.MkdirAll(offDir, 0o755); err != nil {
		return "", err
	}
	patchedMain := filepath.Join(offDir, "main.go")
	if err := os.WriteFile(patchedMain, patched, 0o644); err != nil {
		return "", err
	}
	overlay, err := overlayJSON(map[string]string{mainFile: patchedMain})
	if err != nil {
		return "", err
	}
	overlayFile := filepath.Join(offDir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hello-websockets-metrics-off")
	return bin, goBuild(ctx, root, bin, "-overlay="+overlayFile)
}

// withoutMetrics returns the hello example's main.go without the lines
// that import and use fxmetrics. It fails, naming the fix, unless each line
// is there exactly once and nothing else in the file uses fxmetrics.
func withoutMetrics(src []byte) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	var kept []string
	found := map[string]int{}
	for _, line := range lines {
		code, _, _ := strings.Cut(line, "//")
		code = strings.TrimSpace(code)
		if code == metricsImportLine || code == metricsOptionLine {
			found[code]++
			continue
		}
		kept = append(kept, line)
	}
	for _, want := range []string{metricsImportLine, metricsOptionLine} {
		if n := found[want]; n != 1 {
			return nil, fmt.Errorf("found the line %s %d times, want exactly once: the metrics-off build removes it; "+
				"update metricsImportLine and metricsOptionLine in bench/cmd/wsbench/overlay.go to the lines that turn metrics on", want, n)
		}
	}
	out := []byte(strings.Join(kept, ""))
	if err := checkNoPackageUse(out, metricsPackage); err != nil {
		return nil, fmt.Errorf("without the metrics lines: %w; "+
			"update metricsImportLine and metricsOptionLine in bench/cmd/wsbench/overlay.go to every line that turns metrics on", err)
	}
	return out, nil
}

// checkNoPackageUse reports whether src, a Go file, still imports or
// refers to the package named pkg.
func checkNoPackageUse(src []byte, pkg string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("the file does not parse: %w", err)
	}
	for _, imp := range f.Imports {
		if path := strings.Trim(imp.Path.Value, `"`); path == pkg || strings.HasSuffix(path, "/"+pkg) {
			return fmt.Errorf("line %d still imports %s", fset.Position(imp.Pos()).Line, path)
		}
	}
	var use error
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && use == nil {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
				use = fmt.Errorf("line %d still uses %s.%s", fset.Position(sel.Pos()).Line, pkg, sel.Sel.Name)
			}
		}
		return use == nil
	})
	return use
}

// overlayJSON returns the file go build -overlay reads: each key, a file of
// the build, is replaced by the file its value names.
func overlayJSON(replace map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct{ Replace map[string]string }{replace}); err != nil {
		return nil, fmt.Errorf("encode the build overlay: %w", err)
	}
	return buf.Bytes(), nil
}
