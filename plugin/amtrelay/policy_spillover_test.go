package amtrelay

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// spillCounts asks n times from London and counts the first relay. The
// draws derive from the source name and the time bucket (draw.go), so
// the queries go to different sources, and to the next bucket after
// every 254.
func spillCounts(t *testing.T, a *AMTRelay, n int) map[string]int {
	t.Helper()
	tick := manualClock(a)
	counts := map[string]int{}
	for i := range n {
		if i > 0 && i%254 == 0 {
			tick()
		}
		got := order(t, ask(t, a, fmt.Sprintf("198.51.100.%d", 1+i%254), "127.0.0.1", "203.0.113.0/26"))
		counts[strings.Fields(got[0])[1]]++
	}
	return counts
}

func TestSpillOverBelowLowMark(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9", map[string]string{"lon": "50"}), geotest.Example)
	if c := spillCounts(t, a, 200); c["192.0.2.1"] != 200 {
		t.Errorf("London at 50%% (under the low mark 60%%) should keep every client: %v", c)
	}
}

// TestSpillOverGradual: between the marks the shed share grows linearly:
// London at 75% between 60% and 90% sheds half its clients.
func TestSpillOverGradual(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9", map[string]string{"lon": "75"}), geotest.Example)
	c := spillCounts(t, a, 2000)
	if kept := float64(c["192.0.2.1"]) / 2000; math.Abs(kept-0.5) > 0.05 {
		t.Errorf("London kept %.2f of clients, want 0.5: %v", kept, c)
	}
}

// TestSpillOverSpreadsBySpareCapacity: London full, its clients go to the
// next three nearest (Paris, Amsterdam, Frankfurt; spread 3) by spare
// capacity, not all to Paris. Frankfurt has three times the capacity.
func TestSpillOverSpreadsBySpareCapacity(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9 3", map[string]string{"lon": "95", "par": "0", "ams": "0", "fra": "0"}), geotest.Example)
	c := spillCounts(t, a, 5000)
	if c["192.0.2.1"] != 0 {
		t.Errorf("London over the high mark still got %d clients", c["192.0.2.1"])
	}
	// Spare: par 90, ams 90, fra 270: shares 0.2, 0.2, 0.6.
	for relay, want := range map[string]float64{"192.0.2.2": 0.2, "192.0.2.4": 0.2, "192.0.2.3": 0.6} {
		if got := float64(c[relay]) / 5000; math.Abs(got-want) > 0.03 {
			t.Errorf("%s got %.3f of clients, want %.2f: %v", relay, got, want, c)
		}
	}
	if c["192.0.2.5"] != 0 {
		t.Errorf("New York, outside the spread, got %d", c["192.0.2.5"])
	}
}

// TestSpillOverSiteDown: when the nearest relay is down its clients spread
// the same way.
func TestSpillOverSiteDown(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over", nil), geotest.Example)
	a.relays[0].down.Store(true)
	a.sel.changed()
	c := spillCounts(t, a, 3000)
	if c["192.0.2.1"] != 0 {
		t.Error("a down relay was handed out")
	}
	for _, relay := range []string{"192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		if c[relay] < 300 {
			t.Errorf("%s got only %d of 3000: clients did not spread: %v", relay, c[relay], c)
		}
	}
}
