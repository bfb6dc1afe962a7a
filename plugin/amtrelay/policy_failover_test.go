package amtrelay

import (
	"fmt"
	"slices"
	"testing"
)

func TestRoundRobinAndFailover(t *testing.T) {
	rr := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy round-robin
		answer 2
	}`, nil)
	// One name: the same answer within a time bucket (the TTL), then the
	// next relay in Corefile order in each bucket.
	tick := manualClock(rr)
	next := map[string]string{"0 192.0.2.1": "0 192.0.2.2", "0 192.0.2.2": "0 192.0.2.3", "0 192.0.2.3": "0 192.0.2.1"}
	first := func(source string) string { return order(t, ask(t, rr, source, "127.0.0.1", ""))[0] }
	prev := first("198.51.100.1")
	if again := first("198.51.100.1"); again != prev {
		t.Errorf("one name in one bucket: %q, then %q", prev, again)
	}
	seen := map[string]bool{prev: true}
	for range 3 {
		tick()
		got := first("198.51.100.1")
		if got != next[prev] {
			t.Errorf("after %q came %q, want %q", prev, got, next[prev])
		}
		prev = got
		seen[got] = true
	}
	if len(seen) != 3 {
		t.Errorf("three buckets gave firsts %v, want each relay once", seen)
	}
	// Many names at one moment: spread evenly over the relays.
	counts := map[string]int{}
	for i := 1; i <= 254; i++ {
		counts[first(fmt.Sprintf("198.51.100.%d", i))]++
	}
	for relay, n := range counts {
		if n < 254/3-30 || n > 254/3+30 {
			t.Errorf("254 names at one moment: %s first for %d, want about 85: %v", relay, n, counts)
		}
	}
	fo := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2 {
			drain
		}
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy failover
	}`, nil)
	if got := order(t, ask(t, fo, "198.51.100.1", "127.0.0.1", "")); !slices.Equal(got, []string{"0 192.0.2.1", "1 192.0.2.3"}) {
		t.Errorf("failover with b drained: %q", got)
	}
}
