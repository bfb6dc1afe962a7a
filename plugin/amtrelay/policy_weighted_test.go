package amtrelay

import (
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
	counts := map[string]int{}
	for range 4000 {
		got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", ""))
		if len(got) != 2 || slices.Contains(got, "2 192.0.2.3") {
			t.Fatalf("answer %q: weight 0 must never be answered, others once each", got)
		}
		counts[got[0]]++
	}
	if share := float64(counts["0 192.0.2.2"]) / 4000; math.Abs(share-0.75) > 0.03 {
		t.Errorf("b (weight 3 of 4) first in %.3f of answers, want 0.75", share)
	}
}
