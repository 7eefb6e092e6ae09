package fxmetrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCorePackagesLinkNoPrometheus checks that only fxmetrics brings the
// Prometheus client in: an app that imports fxforge, wsgateway, msregistry
// or identity alone links none of it.
func TestCorePackagesLinkNoPrometheus(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, pkg := range []string{
		"github.com/fxforge/fxforge/fxforge",
		"github.com/fxforge/fxforge/wsgateway",
		"github.com/fxforge/fxforge/msregistry",
		"github.com/fxforge/fxforge/identity",
	} {
		out, err := exec.Command(gobin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if strings.HasPrefix(dep, "github.com/prometheus/") {
				t.Errorf("%s links %s; keep Prometheus code in fxforge/fxmetrics", pkg, dep)
			}
		}
	}
	// The check itself works: fxmetrics does link it.
	out, err := exec.Command(gobin, "list", "-deps", "github.com/fxforge/fxforge/fxforge/fxmetrics").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "github.com/prometheus/client_golang/prometheus\n") {
		t.Errorf("go list -deps fxmetrics does not list the Prometheus client: %v\n%s", err, out)
	}
}

// TestFxmetricsLinksNoNATS checks that the broker and NATS series come
// through fxforge.NATSObserver and wsgateway.BrokerObserver: an app with
// metrics and without NATS links no nats-io module.
func TestFxmetricsLinksNoNATS(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/fxforge/fxforge/fxforge/fxmetrics").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps fxmetrics: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		if strings.HasPrefix(dep, "github.com/nats-io/") {
			t.Errorf("fxmetrics links %s; take NATS events through fxforge.NATSObserver or wsgateway.BrokerObserver", dep)
		}
	}
}
