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
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// newExporter is a relay's metrics endpoint serving its tunnel count.
func newExporter(t *testing.T, value float64) *testenv.Exporter {
	t.Helper()
	e := testenv.StartExporter(t, "amt_relay_tunnels")
	e.Set(value)
	return e
}

// scrapeCorefile: least-load over three relays, each scraping its own
// exporter every 100 ms. max-age is short enough that staleness shows in
// seconds, and long enough that a loaded machine, whose scrapes may fail
// or lag for a second, does not make good readings stale by chance.
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
			max-age 4s
			scrape amt_relay_tunnels {
				interval 100ms
				timeout 2s
			}
		}
	}`, urls[0], urls[1], urls[2])
}

func TestScrapeLoadFollowed(t *testing.T) {
	ea, eb, ec := newExporter(t, 50), newExporter(t, 10), newExporter(t, 90)
	a := startedHandler(t, scrapeCorefile(ea.URL(), eb.URL(), ec.URL()), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); !slices.Equal(got, []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}) {
		t.Errorf("loads 50/10/90: %q", got)
	}
	// The loads change; answers follow within a few intervals.
	ea.Set(5)
	eb.Set(60)
	waitFor(t, func() bool { return order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london))[0] == "0 192.0.2.1" })
	if testutil.ToFloat64(relayLoad.WithLabelValues("", "a")) != 5 {
		t.Error("relay_load{relay=a} is not 5")
	}
}

// TestScrapeBadValuesIgnored: NaN, infinite and negative loads are counted
// and never used; the last good reading stays until it is too old, and
// then the order falls back to distance.
func TestScrapeBadValuesIgnored(t *testing.T) {
	ea, eb, ec := newExporter(t, 90), newExporter(t, 10), newExporter(t, 50)
	a := startedHandler(t, scrapeCorefile(ea.URL(), eb.URL(), ec.URL()), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	want := []string{"0 192.0.2.2", "1 192.0.2.3", "2 192.0.2.1"}
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); !slices.Equal(got, want) {
		t.Fatalf("loads 90/10/50: %q", got)
	}
	before := testutil.ToFloat64(loadErrors.WithLabelValues("scrape", "invalid_value"))
	for _, bad := range []float64{math.NaN(), math.Inf(1), -5} {
		eb.Set(bad)
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
	// b's last good reading ages past max-age (4s): its load is unknown,
	// so it ranks after the relays with known loads.
	waitFor(t, func() bool {
		return slices.Equal(order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)), []string{"0 192.0.2.3", "1 192.0.2.1", "2 192.0.2.2"})
	})
	waitFor(t, func() bool { return testutil.ToFloat64(loadStale.WithLabelValues("", "b")) == 1 })
}

// TestScrapeUnreachableFallsBackToDistance: with every endpoint gone, the
// readings age out and least-load becomes closest. How long a reading
// stays valid is TestLoadReadingAge's, with explicit times.
func TestScrapeUnreachableFallsBackToDistance(t *testing.T) {
	ea, eb, ec := newExporter(t, 90), newExporter(t, 80), newExporter(t, 0)
	a := startedHandler(t, scrapeCorefile(ea.URL(), eb.URL(), ec.URL()), geotest.Example)
	waitFor(t, a.Ready)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Fatalf("New York at 0%% should lead: %q", got)
	}
	ea.Close()
	eb.Close()
	ec.Close()
	waitFor(t, func() bool {
		return slices.Equal(order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)), []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"})
	})
}

// TestLoadReadingAge: a reading is valid for max-age from its time, and
// unknown after; with max-age 0 it never ages; a static load never ages.
// A scraped reading's time is when the scrape started (load_scrape.go), so
// a slow scrape can only make a reading look older, never fresher.
func TestLoadReadingAge(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const maxAge = 4 * time.Second
	r := &relay{name: "r", capacity: 100, down: newDownFlag()}
	if u := r.utilisation(at, maxAge); !math.IsNaN(u) {
		t.Errorf("no reading yet: %v, want unknown", u)
	}
	r.setLoad(40, at, false)
	for _, tc := range []struct {
		now    time.Time
		maxAge time.Duration
		want   float64
	}{
		{at, maxAge, 0.4},
		{at.Add(maxAge), maxAge, 0.4},
		{at.Add(maxAge + time.Nanosecond), maxAge, math.NaN()},
		{at.Add(time.Hour), 0, 0.4},
	} {
		if got := r.utilisation(tc.now, tc.maxAge); !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("at +%v with max-age %v: %v, want %v", tc.now.Sub(at), tc.maxAge, got, tc.want)
		}
	}
	r.setLoad(40, at, true)
	if got := r.utilisation(at.Add(time.Hour), maxAge); got != 0.4 {
		t.Errorf("a static load aged: %v", got)
	}
}

// TestSlowLoadSourceDoesNotSlowAnswers: an endpoint that hangs delays only
// its own reads. Its read may wait up to the 2 s timeout; answers do not
// wait for it (the bound is generous, and far below what waiting would
// cost: 50 answers behind a 2 s read).
func TestSlowLoadSourceDoesNotSlowAnswers(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	defer slow.Close()
	e := newExporter(t, 10)
	a := startedHandler(t, scrapeCorefile(slow.URL, e.URL(), e.URL()), geotest.Example)
	start := time.Now()
	for range 50 {
		ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("50 answers took %v while a load source hung", d)
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
