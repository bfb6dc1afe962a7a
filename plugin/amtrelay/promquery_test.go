package amtrelay

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// TestNextAligned: a periodic query is made just after each multiple of
// its interval, and evaluated at that multiple, from whatever moment in
// the interval its instance asks.
func TestNextAligned(t *testing.T) {
	const interval = 10 * time.Second
	base := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) // a multiple of 10s
	for _, tc := range []struct{ now, want time.Duration }{
		{0, time.Second}, // at 12:00:00: its own query, after settle
		{500 * time.Millisecond, 500 * time.Millisecond}, // this one's settle is still ahead
		{time.Second, interval},                          // exactly at 12:00:01: the next one
		{9*time.Second + 999*time.Millisecond, time.Second + time.Millisecond},
	} {
		now := base.Add(tc.now)
		if got := nextAligned(now, interval); got != tc.want {
			t.Errorf("at +%v: next query in %v, want %v", tc.now, got, tc.want)
		}
		if at := alignedTime(now.Add(nextAligned(now, interval)), interval); at.Sub(base)%interval != 0 {
			t.Errorf("at +%v: the next query is evaluated at %v, not a multiple of the interval", tc.now, at)
		}
	}
	if s := settle(200 * time.Millisecond); s != 50*time.Millisecond {
		t.Errorf("settle of 200ms: %v", s)
	}
}

// TestAlignedPrometheusQueries: two instances that read the same
// Prometheus at different moments of one interval get the same readings,
// evaluated at the interval's start; a read in the interval before gets
// that interval's. Against a real Prometheus that scrapes a load that
// changes four times a second.
func TestAlignedPrometheusQueries(t *testing.T) {
	e := testenv.StartExporter(t, "amt_relay_load", "relay")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			e.Set(float64(time.Now().UnixMilli()/250), "a")
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	url, _ := testenv.StartPrometheus(t, strings.TrimPrefix(e.URL(), "http://"))

	const interval = 2 * time.Second
	ra := &relay{name: "a", capacity: 1, down: newDownFlag()}
	src := func() *promSource {
		s, err := newPromSource(url, "amt_relay_load")
		if err != nil {
			t.Fatal(err)
		}
		s.interval, s.relays, s.poller = interval, newRelayIndex([]*relay{ra}), &loadPoller{}
		return s
	}
	one, two := src(), src()
	read := func(s *promSource, now time.Time) reading {
		t.Helper()
		rs, err := s.read(context.Background(), now)
		if err != nil || len(rs) != 1 {
			t.Fatalf("read at %v: %v, %v", now, rs, err)
		}
		return rs[0]
	}
	// Ask about the last whole interval, once Prometheus has scraped for
	// the one before it too.
	var at time.Time
	testenv.Eventually(t, "Prometheus has scraped for two intervals", func() bool {
		at = alignedTime(time.Now().Add(-interval), interval)
		rs, err := one.read(context.Background(), at.Add(-10*time.Millisecond))
		return err == nil && len(rs) == 1
	})

	early, late := read(one, at.Add(10*time.Millisecond)), read(two, at.Add(interval-10*time.Millisecond))
	if early.value != late.value || !early.at.Equal(late.at) {
		t.Errorf("same interval, different moments: %v at %v and %v at %v", early.value, early.at, late.value, late.at)
	}
	// The reading is the last scrape before the aligned time, with the
	// scrape's own time (Prometheus scrapes every second).
	if early.at.After(at) || at.Sub(early.at) > interval {
		t.Errorf("reading scraped at %v for an evaluation at %v", early.at, at)
	}
	before := read(one, at.Add(-10*time.Millisecond))
	if before.at.Equal(early.at) || before.value == early.value || before.at.After(at.Add(-interval)) {
		t.Errorf("the interval before: %v at %v, the same scrape as %v at %v", before.value, before.at, early.value, early.at)
	}
}
