package natsbroker_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestWsgatewayAloneLinksNoNATSAndNatsbrokerNoPrometheus checks the
// package boundaries: wsgateway links no nats-io module (NATS comes with
// this package), and this package links no Prometheus module (metrics come
// with fxforge/fxmetrics, through wsgateway.BrokerObserver).
func TestWsgatewayAloneLinksNoNATSAndNatsbrokerNoPrometheus(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; run `go list -deps ./wsgateway ./wsgateway/natsbroker` by hand")
	}
	for _, tc := range []struct{ pkg, forbidden, fix string }{
		{"github.com/fxforge/fxforge/wsgateway", "github.com/nats-io/", "keep NATS code in wsgateway/natsbroker"},
		{"github.com/fxforge/fxforge/wsgateway/natsbroker", "github.com/prometheus/", "report through wsgateway.BrokerObserver and keep Prometheus code in fxforge/fxmetrics"},
	} {
		out, err := exec.Command(goTool, "list", "-deps", tc.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
		}
		for dep := range strings.SplitSeq(string(out), "\n") {
			if strings.HasPrefix(dep, tc.forbidden) {
				t.Errorf("%s links %s; %s", tc.pkg, dep, tc.fix)
			}
		}
	}
}
