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
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "./fxforge", "./wsgateway", "./msregistry", "./identity")
	cmd.Dir = filepath.Join("..", "..") // the module root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/nats-io/") {
			t.Errorf("a core package depends on %s; keep NATS code in subpackages such as fxforge/fxnats", pkg)
		}
	}
}
