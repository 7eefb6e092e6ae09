package fxmetrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"

	"github.com/fxforge/fxforge/fxforge"
	"github.com/fxforge/fxforge/fxforge/fxmetrics"
	"github.com/fxforge/fxforge/msregistry"
	"github.com/fxforge/fxforge/wsgateway"
)

// Example adds fxmetrics.Module to an app, makes one call and reads the
// probes and the metrics the way a load balancer and Prometheus do.
func Example() {
	var srv *fxforge.Server
	var reg *msregistry.Registry
	app := fx.New(
		fx.NopLogger, // fxforge.Logger() in a real app
		fxforge.HTTPServer(fxforge.Addr("127.0.0.1:0")),
		fxforge.Microservices(),
		fxforge.Patterns(func(reg *msregistry.Registry) error {
			return msregistry.Message(reg, "users.count", func(context.Context, struct{}) (int, error) { return 42, nil })
		}),
		fxmetrics.Module,
		fx.Populate(&srv, &reg),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(ctx)
	base := "http://" + srv.Addr().String()

	_, _ = msregistry.NewLocalClient(reg).Send(ctx, "users.count", nil)

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %d %s", path, resp.StatusCode, body)
	}
	printSeries(base+"/metrics", "fxforge_ms_handled_total")
	// Output:
	// /healthz: 200 ok
	// /readyz: 200 ready
	// fxforge_ms_handled_total{kind="message",outcome="error",pattern="users.count",transport="local"} 0
	// fxforge_ms_handled_total{kind="message",outcome="ok",pattern="users.count",transport="local"} 1
}

// ExampleNewGatewayMetrics observes a gateway served with plain net/http,
// without fx.
func ExampleNewGatewayMetrics() {
	reg, err := fxmetrics.NewRegistry()
	if err != nil {
		fmt.Println(err)
		return
	}
	metrics, err := fxmetrics.NewGatewayMetrics(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	echo := wsgateway.GatewayFunc(func(ctx *wsgateway.Context, conn *wsgateway.Conn) error {
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				return err
			}
			if err := conn.Write(typ, data); err != nil {
				return err
			}
		}
	})
	gw := wsgateway.NewServer(echo, wsgateway.Config{Path: "/echo", Observer: metrics.Observer("/echo")})
	mux := http.NewServeMux()
	mux.Handle("/echo", gw)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer gw.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte("hi"))
	_, _, _ = c.Read(ctx)

	// The echo is in: the server has counted the connection and the
	// message it read.
	printSeries(hs.URL+"/metrics", "fxforge_ws_connections", "fxforge_ws_messages_received")
	// Output:
	// fxforge_ws_connections{path="/echo"} 1
	// fxforge_ws_messages_received_total{path="/echo"} 1
}

// printSeries prints the samples of url whose names start with one of
// prefixes.
func printSeries(url string, prefixes ...string) {
	resp, err := http.Get(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for _, p := range prefixes {
			if strings.HasPrefix(sc.Text(), p) {
				fmt.Println(sc.Text())
				break
			}
		}
	}
}
