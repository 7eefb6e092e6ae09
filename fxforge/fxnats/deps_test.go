package fxnats_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorePackagesLinkNoNATS checks that an app importing fxforge,
// wsgateway, msregistry or identity alone links no nats-io module: NATS
// comes only with fxnats, natstransport and the other NATS subpackages.
func TestCorePackagesLinkNoNATS(t *testing.T) {
	for _, pkg := range goListDeps(t, "./fxforge", "./wsgateway", "./msregistry", "./identity") {
		if strings.HasPrefix(pkg, "github.com/nats-io/") {
			t.Errorf("a core package depends on %s; keep NATS code in subpackages such as fxforge/fxnats", pkg)
		}
	}
}

// TestFxnatsLinksNoPrometheus checks that fxnats reports its connection
// and its hub broker through the interfaces of fxforge and wsgateway, so
// that an app with NATS and without fxmetrics links no Prometheus module.
func TestFxnatsLinksNoPrometheus(t *testing.T) {
	for _, pkg := range goListDeps(t, "./fxforge/fxnats") {
		if strings.HasPrefix(pkg, "github.com/prometheus/") {
			t.Errorf("fxnats depends on %s; report through fxforge.NATSObserver or wsgateway.BrokerObserver and keep Prometheus code in fxforge/fxmetrics", pkg)
		}
	}
}

// goListDeps returns what `go list -deps` lists for pkgs, relative to the
// module root.
func goListDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = filepath.Join("..", "..") // the module root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}
