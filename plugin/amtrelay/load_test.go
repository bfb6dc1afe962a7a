package amtrelay

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// exporter is a relay's metrics endpoint: a real HTTP server with the
// Prometheus client library's handler, serving one gauge.
type exporter struct {
	srv   *httptest.Server
	gauge prometheus.Gauge
}

func newExporter(t *testing.T, value float64) *exporter {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "amt_relay_tunnels", Help: "Tunnels in use."})
	reg.MustRegister(g)
	g.Set(value)
	e := &exporter{srv: httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), gauge: g}
	t.Cleanup(e.srv.Close)
	return e
}

// scrapeCorefile: least-load over three relays at one place, each
// scraping its own exporter; max-age short so staleness shows quickly.
func scrapeCorefile(urls ...string) string {
	return fmt.Sprintf(`amtrelay {
		relay a 192.0.2.1 {
			location 51.5 0
			capacity 100
			metrics %s
		}
		relay b 192.0.2.2 {
			location 48.8 2.3
			capacity 100
			metrics %s
		}
		relay c 192.0.2.3 {
			location 40.7 -74
			capacity 100
			metrics %s
		}
		source 198.51.100.0/24
		policy least-load
		geoip GEOIP
		load {
			max-age 1s
			scrape amt_relay_tunnels {
				interval 100ms
				timeout 200ms
			}
		}
	}`, urls[0], urls[1], urls[2])
}

func TestScrapeLoadFollowed(t *testing.T) {
	ea, eb, ec := newExporter(t, 50), newExporter(t, 10), newExporter(t, 90)
	a := startedHandler(t, scrapeCorefile(ea.srv.URL, eb.srv.URL, ec.srv.URL), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); !slices.Equal(got, []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}) {
		t.Errorf("loads 50/10/90: %q", got)
	}
	// The loads change; answers follow within a few intervals.
	ea.gauge.Set(5)
	eb.gauge.Set(60)
	waitFor(t, func() bool { return order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london))[0] == "0 192.0.2.1" })
	if testutil.ToFloat64(relayLoad.WithLabelValues("a")) != 5 {
		t.Error("relay_load{relay=a} is not 5")
	}
}

// TestScrapeBadValuesIgnored: NaN, infinite and negative loads are counted
// and never used; the last good reading stays until it is too old, and
// then the order falls back to distance.
func TestScrapeBadValuesIgnored(t *testing.T) {
	ea, eb, ec := newExporter(t, 90), newExporter(t, 10), newExporter(t, 50)
	a := startedHandler(t, scrapeCorefile(ea.srv.URL, eb.srv.URL, ec.srv.URL), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	want := []string{"0 192.0.2.2", "1 192.0.2.3", "2 192.0.2.1"}
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); !slices.Equal(got, want) {
		t.Fatalf("loads 90/10/50: %q", got)
	}
	before := testutil.ToFloat64(loadErrors.WithLabelValues("scrape", "invalid_value"))
	for _, bad := range []float64{math.NaN(), math.Inf(1), -5} {
		eb.gauge.Set(bad)
		after := testutil.ToFloat64(loadErrors.WithLabelValues("scrape", "invalid_value"))
		waitFor(t, func() bool { return testutil.ToFloat64(loadErrors.WithLabelValues("scrape", "invalid_value")) > after })
		// Not taken as 0 (nor as anything): b keeps its last good load.
		if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); !slices.Equal(got, want) {
			t.Errorf("after a %v reading: %q", bad, got)
		}
	}
	if testutil.ToFloat64(loadErrors.WithLabelValues("scrape", "invalid_value")) < before+3 {
		t.Error("invalid values not counted")
	}
	// b's last good reading ages past max-age (1s): its load is unknown,
	// so it ranks after the relays with known loads.
	waitFor(t, func() bool {
		return slices.Equal(order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)), []string{"0 192.0.2.3", "1 192.0.2.1", "2 192.0.2.2"})
	})
	waitFor(t, func() bool { return testutil.ToFloat64(loadStale.WithLabelValues("b")) == 1 })
}

// TestScrapeUnreachableFallsBackToDistance: with every endpoint gone, the
// readings age out and least-load becomes closest.
func TestScrapeUnreachableFallsBackToDistance(t *testing.T) {
	ea, eb, ec := newExporter(t, 90), newExporter(t, 80), newExporter(t, 0)
	a := startedHandler(t, scrapeCorefile(ea.srv.URL, eb.srv.URL, ec.srv.URL), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Fatalf("New York at 0%% should lead: %q", got)
	}
	ea.srv.Close()
	eb.srv.Close()
	ec.srv.Close()
	start := time.Now()
	waitFor(t, func() bool {
		return slices.Equal(order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)), []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"})
	})
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("fell back after %v: readings must stay valid for max-age (1s)", d)
	}
}

// TestSlowLoadSourceDoesNotSlowAnswers: an endpoint that takes seconds to
// answer delays only its own reads.
func TestSlowLoadSourceDoesNotSlowAnswers(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	e := newExporter(t, 10)
	a := startedHandler(t, scrapeCorefile(slow.URL, e.srv.URL, e.srv.URL), geotest.Example)
	for range 50 {
		start := time.Now()
		ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("an answer took %v while a load source hung", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoadSetupErrors(t *testing.T) {
	for _, tc := range []struct{ corefile, want string }{
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nload {\nscrape m\n}\n}", "no relay has a metrics URL"},
		{"amtrelay {\nrelay r 192.0.2.1 {\nmetrics ftp://x/\n}\nsource 198.51.100.0/24\n}", "must be an http or https URL"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nload {\nprometheus http://127.0.0.1:9090\n}\n}", "a server URL and a PromQL query"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nload {\nmax-age 0s\n}\n}", "max-age '0s'"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nhealth {\ninterval 1s\ntimeout 2s\n}\n}", "longer than its interval"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nhealth 0\n}", "health port '0'"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nhealth {\ndown 0\n}\n}", "down '0'"},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nhealth {\nbogus\n}\n}", "unknown property 'bogus' in health"},
	} {
		_, err := parseCorefile(tc.corefile)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.corefile, err, tc.want)
		}
	}
}
