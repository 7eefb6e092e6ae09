package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithoutMetricsRemovesOnlyTheImportAndTheOptionLine patches the hello
// example's real main.go: the result is the same file less two lines, and
// it no longer mentions fxmetrics in code.
func TestWithoutMetricsRemovesOnlyTheImportAndTheOptionLine(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", helloMain))
	if err != nil {
		t.Fatal(err)
	}
	out, err := withoutMetrics(src)
	if err != nil {
		t.Fatalf("withoutMetrics(examples/hello-websockets/main.go): %v", err)
	}
	in, kept := strings.SplitAfter(string(src), "\n"), strings.SplitAfter(string(out), "\n")
	if len(kept) != len(in)-2 {
		t.Fatalf("patched main.go has %d lines, want %d (two removed)", len(kept), len(in)-2)
	}
	var removed []string
	for i, j := 0, 0; i < len(in); i++ {
		if j < len(kept) && in[i] == kept[j] {
			j++
			continue
		}
		removed = append(removed, strings.TrimSpace(in[i]))
	}
	if len(removed) != 2 || removed[0] != metricsImportLine || !strings.HasPrefix(removed[1], metricsOptionLine) {
		t.Errorf("removed lines %q, want the fxmetrics import and the %s option line", removed, metricsOptionLine)
	}
	if err := checkNoPackageUse(out, metricsPackage); err != nil {
		t.Errorf("patched main.go: %v", err)
	}
}

func TestWithoutMetricsFailsNamingTheFixWhenTheLinesDoNotMatch(t *testing.T) {
	const head = "package main\n\nimport (\n\t\"go.uber.org/fx\"\n"
	const imp = "\t\"github.com/fxforge/fxforge/fxforge/fxmetrics\"\n"
	for _, c := range []struct {
		name, src, want string
	}{
		{"option line missing", head + imp + ")\n\nvar App = fx.Options(\n\tfxmetrics.Metrics(fxmetrics.Addr(\":9090\")),\n)\n", metricsOptionLine + " 0 times"},
		{"option line twice", head + imp + ")\n\nvar App = fx.Options(\n\tfxmetrics.Module,\n\tfxmetrics.Module, // again\n)\n", metricsOptionLine + " 2 times"},
		{"import missing", head + ")\n\nvar App = fx.Options(\n\tfxmetrics.Module,\n)\n", metricsImportLine + " 0 times"},
		{"fxmetrics used elsewhere", head + imp + ")\n\nvar App = fx.Options(\n\tfxmetrics.Module,\n)\n\nvar _ = fxmetrics.Addr\n", "still uses fxmetrics.Addr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := withoutMetrics([]byte(c.src))
			if err == nil {
				t.Fatalf("withoutMetrics accepted it and returned:\n%s", out)
			}
			for _, want := range []string{c.want, "update metricsImportLine and metricsOptionLine in bench/cmd/wsbench/overlay.go"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestWithoutMetricsKeepsAnOptionLineWithACommentOrOtherIndentation(t *testing.T) {
	src := "package main\n\nimport (\n\t\"go.uber.org/fx\"\n\n  \"github.com/fxforge/fxforge/fxforge/fxmetrics\" // metrics\n)\n\nvar App = fx.Options(\n    fxmetrics.Module,   // /metrics, /healthz\n)\n"
	out, err := withoutMetrics([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "package main\n\nimport (\n\t\"go.uber.org/fx\"\n\n)\n\nvar App = fx.Options(\n)\n"; string(out) != want {
		t.Errorf("withoutMetrics =\n%s\nwant\n%s", out, want)
	}
}

func TestOverlayJSONIsTheFormatGoBuildReads(t *testing.T) {
	b, err := overlayJSON(map[string]string{"/repo/examples/hello-websockets/main.go": "/tmp/x/main.go"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Replace map[string]string }
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("overlay %s: %v", b, err)
	}
	if len(got.Replace) != 1 || got.Replace["/repo/examples/hello-websockets/main.go"] != "/tmp/x/main.go" {
		t.Errorf("overlay %s: Replace = %v", b, got.Replace)
	}
}

func TestMetricsModeRunsEightPairsUnlessToldOtherwise(t *testing.T) {
	for _, c := range []struct {
		args []string
		runs int
	}{
		{[]string{"-mode=metrics"}, defaultMetricsRuns},
		{[]string{"-mode=metrics", "-runs=3"}, 3},
		{[]string{"-mode=metrics", "-runs=5"}, 5},
		{nil, 5},
		{[]string{"-mode=rtt"}, 5},
	} {
		o, err := parseOptions(c.args, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("parseOptions(%q): %v", c.args, err)
		}
		if o.runs != c.runs {
			t.Errorf("parseOptions(%q).runs = %d, want %d", c.args, o.runs, c.runs)
		}
	}
}

// TestMetricsTargetIsTheMedianPairRatioWithTheNoiseFloor fills the table
// as four runs would and checks the target row.
func TestMetricsTargetIsTheMedianPairRatioWithTheNoiseFloor(t *testing.T) {
	b := &bench{o: options{conns: 50}, t: &table{}}
	for _, r := range []struct{ on, off, off2 float64 }{{10.2, 10, 10.1}, {10.4, 10, 9.9}, {20, 20, 20}, {21, 20, 20.4}} {
		b.t.get(b.metricsSec(), rowCPU, "µs", "lower", "%.2f").add(r.on, r.off)
		b.t.get(b.controlSec(), rowCPU, "µs", "lower", "%.2f").add(r.off2, r.off)
	}
	g := b.metricsTarget()
	r, res := g.check()
	if want := (1.02 + 1.04) / 2; r < want-1e-9 || r > want+1e-9 || res != "met" {
		t.Errorf("metrics target = %v, %q; want %v (median of 1.02, 1.04, 1.00, 1.05), met", r, res, want)
	}
	if want := "noise floor, off/off in the same pairs: 1.005×, per run 0.990×–1.020×"; g.note != want {
		t.Errorf("note = %q, want %q", g.note, want)
	}
}
