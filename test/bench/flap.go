package main

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// flapper is the load source the harness controls: one relay's metrics
// page, in the Prometheus text format, whose amt_relay_load changes every
// second between 10 and 95 (of capacity 100), so that the relay crosses
// spill-over's thresholds and every load-dependent answer can change.
type flapper struct {
	URL     string
	srv     *http.Server
	stop    chan struct{}
	scrapes atomic.Int64 // pages served: the plugin really read them
	flips   atomic.Int64
}

func startFlapper() (*flapper, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	load := prometheus.NewGauge(prometheus.GaugeOpts{Name: "amt_relay_load", Help: "Relay load, of capacity 100."})
	reg.MustRegister(load)
	load.Set(10)
	f := &flapper{URL: "http://" + l.Addr().String() + "/metrics", stop: make(chan struct{})}
	page := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		f.scrapes.Add(1)
		page.ServeHTTP(w, r)
	})
	f.srv = &http.Server{Handler: mux}
	go f.srv.Serve(l)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
				if f.flips.Add(1)%2 == 1 {
					load.Set(95)
				} else {
					load.Set(10)
				}
			}
		}
	}()
	return f, nil
}

func (f *flapper) Close() {
	close(f.stop)
	f.srv.Close()
}
