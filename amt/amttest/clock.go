package amttest

import (
	"slices"
	"sync"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// ManualClock is an amt.Clock (and gatewayresolver.Clock) that moves only
// when a test advances it: the timers of a Gateway or a Session are tested
// without sleeping. Its methods are safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*manualTimer
}

type manualTimer struct {
	c    *ManualClock
	at   time.Time
	seq  int
	f    func()
	done bool
}

// NewManualClock returns a ManualClock at 2026-01-01 12:00 UTC.
func NewManualClock() *ManualClock {
	return &ManualClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc sets a timer that Advance runs once the clock reaches it.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) amt.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *manualTimer) bool { return x == t })
	return true
}

// Advance moves the clock d forward, running each timer that falls due,
// in order, at its own time, in the caller's goroutine.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		var next *manualTimer
		for _, t := range c.timers {
			if !t.at.After(end) && (next == nil || t.at.Before(next.at) || (t.at.Equal(next.at) && t.seq < next.seq)) {
				next = t
			}
		}
		if next == nil {
			break
		}
		next.done = true
		c.timers = slices.DeleteFunc(c.timers, func(x *manualTimer) bool { return x == next })
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// AdvanceTo advances the clock to t.
func (c *ManualClock) AdvanceTo(t time.Time) { c.Advance(t.Sub(c.Now())) }

// Pending returns when the timers set will fire, in order.
func (c *ManualClock) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.timers {
		out = append(out, t.at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
