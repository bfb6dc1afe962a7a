package gatewayresolver

import (
	"testing"
	"time"
)

// TestBackoffBounds checks RFC 8777 §3.5: retry n waits a random time in
// [initial, min(initial·2^n, max)], reaching both ends.
func TestBackoffBounds(t *testing.T) {
	const initial, maxd = time.Second, 120 * time.Second
	for n, hi := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 6: 64 * time.Second, 7: maxd, 8: maxd, 63: maxd, 1000: maxd} {
		lowest := backoff(n, initial, maxd, func(int64) int64 { return 0 })
		highest := backoff(n, initial, maxd, func(k int64) int64 { return k - 1 })
		if lowest != initial || highest != hi {
			t.Errorf("n=%d: range [%v, %v], want [%v, %v]", n, lowest, highest, initial, hi)
		}
		for range 50 {
			if d := backoff(n, initial, maxd, int64n); d < initial || d > hi {
				t.Fatalf("n=%d: backoff = %v outside [%v, %v]", n, d, initial, hi)
			}
		}
	}
	if d := backoff(3, time.Second, 0, int64n); d != time.Second {
		t.Errorf("max below initial: %v", d)
	}
}
