package amtrelay

import (
	"context"
	"sync/atomic"
	"time"
)

// locationWatch notices when the GeoIP database cannot place most clients
// of the location policies (closest, spill-over, least-load): a database
// for the wrong address family, a stale one, or none. Those policies then
// quietly answer in failover order. It keeps counts over the last
// locationWindow, in buckets, and while more than half of those queries
// had no location, sets coredns_amtrelay_location_unknown_share and warns
// every locationWarnEvery.
type locationWatch struct {
	buckets [locationBuckets]locationBucket
	server  atomic.Pointer[string] // the server label, from the queries
	// lastWarn is when the last warning was logged (Unix nanoseconds).
	lastWarn atomic.Int64
	// now is the clock; tests set it.
	now func() time.Time
}

const (
	locationWindow    = 5 * time.Minute
	locationBuckets   = 10
	locationBucketLen = locationWindow / locationBuckets
	locationWarnEvery = 5 * time.Minute
)

// locationBucket counts the queries of one slot of locationBucketLen. A
// bucket reused for a new slot is reset; increments racing that reset may
// be lost, which a share over minutes does not notice.
type locationBucket struct {
	slot             atomic.Int64
	located, unknown atomic.Int64
}

func newLocationWatch() *locationWatch { return &locationWatch{now: time.Now} }

// record counts one query of a location policy at now.
func (w *locationWatch) record(now time.Time, located bool, server string) {
	if s := w.server.Load(); s == nil || *s != server {
		label := server // only here does the label go to the heap
		w.server.Store(&label)
	}
	slot := now.UnixNano() / int64(locationBucketLen)
	b := &w.buckets[slot%locationBuckets]
	if old := b.slot.Load(); old != slot && b.slot.CompareAndSwap(old, slot) {
		b.located.Store(0)
		b.unknown.Store(0)
	}
	if located {
		b.located.Add(1)
	} else {
		b.unknown.Add(1)
	}
}

// share is the share of queries without a location over the window that
// ends at now, and how many queries that is.
func (w *locationWatch) share(now time.Time) (float64, int64) {
	slot := now.UnixNano() / int64(locationBucketLen)
	var located, unknown int64
	for i := range w.buckets {
		b := &w.buckets[i]
		if s := b.slot.Load(); s > slot-locationBuckets && s <= slot {
			located += b.located.Load()
			unknown += b.unknown.Load()
		}
	}
	if located+unknown == 0 {
		return 0, 0
	}
	return float64(unknown) / float64(located+unknown), located + unknown
}

// evaluate sets the gauge and warns, at most every locationWarnEvery,
// while most clients have no location. It reports whether it warned.
func (w *locationWatch) evaluate(now time.Time) bool {
	s := w.server.Load()
	if s == nil {
		return false // no query of a location policy yet
	}
	share, n := w.share(now)
	locationUnknownShare.WithLabelValues(*s).Set(share)
	if share <= 0.5 || now.UnixNano()-w.lastWarn.Load() < int64(locationWarnEvery) {
		return false
	}
	w.lastWarn.Store(now.UnixNano())
	log.Warningf("server %s: %.0f%% of %d queries of location policies in the last %s had no client location, so they were answered in failover order: check the GeoIP database (metric location_unknown_total says why)", *s, 100*share, n, locationWindow)
	return true
}

// run evaluates every bucket length until ctx ends.
func (w *locationWatch) run(ctx context.Context) {
	every(ctx, locationBucketLen, func() { w.evaluate(w.now()) })
}

// ready is true: the watch only reports.
func (w *locationWatch) ready() bool { return true }
