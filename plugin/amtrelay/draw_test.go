package amtrelay

import (
	"hash/fnv"
	"sync"
	"testing"
	"time"
)

// manualClock gives a a clock that stands still, and returns a function
// that moves it on by one time bucket (the TTL).
func manualClock(a *AMTRelay) (tick func()) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a.sel.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(a.sel.bucket)
	}
}

// TestFNV64aIsHashFNV: the written-out FNV-1a is hash/fnv's.
func TestFNV64aIsHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "12.100.51.198.in-addr.arpa.", string([]byte{0, 255, 7})} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got := fnv64a(fnvOffset64, []byte(s)); got != h.Sum64() {
			t.Errorf("fnv64a(%q) = %x, want %x", s, got, h.Sum64())
		}
	}
}
