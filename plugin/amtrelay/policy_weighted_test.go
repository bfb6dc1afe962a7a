package amtrelay

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestWeighted(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay a 192.0.2.1 {
			weight 1
		}
		relay b 192.0.2.2 {
			weight 3
		}
		relay c 192.0.2.3 {
			weight 0
		}
		source 198.51.100.0/24
		policy weighted
	}`, nil)
	// Over source names and time buckets, not per query: the draw of one
	// name in one bucket is the same on every instance (draw.go).
	tick := manualClock(a)
	counts := map[string]int{}
	for i := range 4000 {
		if i > 0 && i%250 == 0 {
			tick()
		}
		got := order(t, ask(t, a, fmt.Sprintf("198.51.100.%d", 1+i%250), "127.0.0.1", ""))
		if len(got) != 2 || slices.Contains(got, "2 192.0.2.3") {
			t.Fatalf("answer %q: weight 0 must never be answered, others once each", got)
		}
		counts[got[0]]++
	}
	if share := float64(counts["0 192.0.2.2"]) / 4000; math.Abs(share-0.75) > 0.03 {
		t.Errorf("b (weight 3 of 4) first in %.3f of answers, want 0.75", share)
	}
}
