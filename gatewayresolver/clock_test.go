package gatewayresolver

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// manualClock is a Clock that moves only when a test advances it: every
// timer of a Session is tested without sleeping.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*manualTimer
}

type manualTimer struct {
	c    *manualClock
	at   time.Time
	seq  int
	f    func()
	done bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
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
func (c *manualClock) Advance(d time.Duration) {
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
func (c *manualClock) AdvanceTo(t time.Time) { c.Advance(t.Sub(c.Now())) }

// Pending returns when the timers set will fire, in order.
func (c *manualClock) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.timers {
		out = append(out, t.at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func TestManualClock(t *testing.T) {
	c := newManualClock()
	start := c.Now()
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "2s@"+c.Now().Sub(start).String()) })
	stopped := c.AfterFunc(time.Second, func() { got = append(got, "stopped") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "1s@"+c.Now().Sub(start).String())
		// A timer set by a timer, due within the same Advance, runs too.
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "1.5s@"+c.Now().Sub(start).String()) })
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop")
	}
	c.Advance(3 * time.Second)
	want := []string{"1s@1s", "1.5s@1.5s", "2s@2s"}
	if !slices.Equal(got, want) || !c.Now().Equal(start.Add(3*time.Second)) || len(c.Pending()) != 0 {
		t.Errorf("ran %v at %v, want %v", got, c.Now().Sub(start), want)
	}
}
