package fxmetrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// NewRegistry returns a Prometheus registry of the app's own (never the
// global default one) with the Go runtime and process collectors, such as
// go_goroutines and process_resident_memory_bytes. Module provides it to the
// graph, so the app registers its own metrics on the same endpoint.
func NewRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	err := register(reg,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err != nil {
		return nil, err
	}
	return reg, nil
}

// register registers every collector with reg.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("fxmetrics: register metrics: %w (is fxmetrics in the app twice, or does the app register a metric of the same name?)", err)
		}
	}
	return nil
}

// metricsHandler serves reg in the Prometheus text format (or what the
// scraper negotiates), counting its own scrapes and errors on reg.
func metricsHandler(reg *prometheus.Registry, log *zap.Logger) http.Handler {
	errLog, err := zap.NewStdLogAt(log, zap.ErrorLevel)
	if err != nil {
		errLog = zap.NewStdLog(log)
	}
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      errLog,
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	}))
}
