package natsbroker_test

import (
	"os/exec"
	"strings"
	"testing"
)

func TestWsgatewayAloneLinksNoNATS(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; run `go list -deps ./wsgateway` by hand")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/fxforge/fxforge/wsgateway").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for pkg := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(pkg, "github.com/nats-io/") {
			t.Errorf("wsgateway links %s; keep NATS code in wsgateway/natsbroker", pkg)
		}
	}
}
