package amtrelay

import (
	"sync"
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
