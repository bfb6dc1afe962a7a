package testenv

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter is a metrics endpoint as a relay or the operator's monitoring
// would serve it: a real HTTP server with the Prometheus client library's
// handler, serving one gauge, with labels or without. It closes when the
// test ends.
type Exporter struct {
	srv   *httptest.Server
	gauge *prometheus.GaugeVec
}

// StartExporter serves the gauge metric, with the given label names, on
// 127.0.0.1.
func StartExporter(t testing.TB, metric string, labels ...string) *Exporter {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metric, Help: "Test gauge " + metric + "."}, labels)
	reg.MustRegister(g)
	e := &Exporter{srv: httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), gauge: g}
	t.Cleanup(e.srv.Close)
	return e
}

// URL is the exporter's base URL; the metrics are at every path.
func (e *Exporter) URL() string { return e.srv.URL }

// Set sets the gauge, for the given label values.
func (e *Exporter) Set(value float64, labelValues ...string) {
	e.gauge.WithLabelValues(labelValues...).Set(value)
}

// Close stops serving, as an exporter that went away.
func (e *Exporter) Close() { e.srv.Close() }
