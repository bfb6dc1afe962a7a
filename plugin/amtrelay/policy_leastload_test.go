package amtrelay

import (
	"slices"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLeastLoad(t *testing.T) {
	// Utilisation: lon 0.50, par 0.20, fra 0.20 (60/300), ams 0.90, nyc unknown.
	a := startedHandler(t, sites("policy least-load", map[string]string{"lon": "50", "par": "20", "fra": "60", "ams": "90"}), geotest.Example)
	r := ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")
	// par and fra tie at 20%: Paris is nearer London. Then lon (50%).
	if got := order(t, r); !slices.Equal(got, []string{"0 192.0.2.2", "1 192.0.2.3", "2 192.0.2.1"}) {
		t.Errorf("least-load order %q", got)
	}
	// The tie was broken by distance: the answer depends on the client.
	if e := replyECS(r); e == nil || e.SourceScope != 26 {
		t.Errorf("ECS %v, want scope 26", e)
	}
	// From New York the tie breaks the other way round: Frankfurt is not
	// nearer, Paris still is (5837 vs 6204 km).
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.64/26")); got[0] != "0 192.0.2.2" {
		t.Errorf("from New York: %q", got)
	}
}

// TestLeastLoadUnknownFallsBackToDistance: with no load known, least-load
// is closest.
func TestLeastLoadUnknownFallsBackToDistance(t *testing.T) {
	a := startedHandler(t, sites("policy least-load", nil), geotest.Example)
	before := testutil.ToFloat64(fallbacks.WithLabelValues("", ".", "", "least-load", "load_unknown"))
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.64/26")); !slices.Equal(got, []string{"0 192.0.2.5", "1 192.0.2.1", "2 192.0.2.2"}) {
		t.Errorf("from New York with no loads: %q", got)
	}
	if testutil.ToFloat64(fallbacks.WithLabelValues("", ".", "", "least-load", "load_unknown")) != before+1 {
		t.Error("load_unknown fallback not counted")
	}
}
