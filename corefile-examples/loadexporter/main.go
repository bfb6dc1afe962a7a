// Command loadexporter is a stand-in for an operator's relay monitoring,
// for the prometheus example: it serves the gauge amt_relay_load, one
// series per relay, with the values given, and reads new ones on stdin
// ("chi=95" lines), so that the example's answers can be watched
// following the load.
//
//	go run ./corefile-examples/loadexporter -listen 127.0.0.1:9101 cam=80 chi=20 syd=50
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9101", "serve /metrics on `ADDRESS`")
	flag.Parse()
	reg := prometheus.NewRegistry()
	load := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "amt_relay_load", Help: "Relay load, percent of capacity."}, []string{"relay"})
	reg.MustRegister(load)
	set := func(arg string) error {
		relay, v, ok := strings.Cut(strings.TrimSpace(arg), "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || relay == "" || err != nil {
			return fmt.Errorf("%q: want RELAY=LOAD, such as chi=95", arg)
		}
		load.WithLabelValues(relay).Set(f)
		return nil
	}
	for _, a := range flag.Args() {
		if err := set(a); err != nil {
			log.Fatal(err)
		}
	}
	go func() {
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			if err := set(s.Text()); err != nil {
				log.Print(err)
			}
		}
	}()
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log.Printf("serving amt_relay_load on http://%s/metrics", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
