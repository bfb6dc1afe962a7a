package amtrelay

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestLocationWatch: on an injected clock, more than half of the location
// policy queries of the last 5 minutes without a location sets the share
// and warns, then warns again only 5 minutes later while it lasts; old
// queries leave the window.
func TestLocationWatch(t *testing.T) {
	w := newLocationWatch()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if w.evaluate(t0) {
		t.Fatal("warned before any query")
	}
	for range 4 {
		w.record(t0, true, "dns://:53")
	}
	for range 4 {
		w.record(t0, false, "dns://:53")
	}
	if w.evaluate(t0) {
		t.Error("warned at exactly half")
	}
	w.record(t0.Add(time.Second), false, "dns://:53")
	if !w.evaluate(t0.Add(time.Second)) {
		t.Error("no warning at 5 of 9 unknown")
	}
	if got := testutil.ToFloat64(locationUnknownShare.WithLabelValues("dns://:53")); got < 0.55 || got > 0.56 {
		t.Errorf("share %v, want 5/9", got)
	}
	// Still most unknown a minute later: no second warning yet.
	w.record(t0.Add(time.Minute), false, "dns://:53")
	if w.evaluate(t0.Add(time.Minute)) {
		t.Error("warned again within 5 minutes")
	}
	// Five minutes after the warning, still most unknown: warned again.
	later := t0.Add(time.Second + locationWarnEvery)
	w.record(later, false, "dns://:53")
	if !w.evaluate(later) {
		t.Error("no second warning after 5 minutes")
	}
	// Ten minutes on, the window holds only new, located queries.
	much := t0.Add(15 * time.Minute)
	w.record(much, true, "dns://:53")
	if share, n := w.share(much); share != 0 || n != 1 {
		t.Errorf("after the window: share %v of %d queries", share, n)
	}
	if w.evaluate(much) {
		t.Error("warned with every client located")
	}
}
