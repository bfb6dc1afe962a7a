package gatewayresolver

import (
	"context"
	"net/netip"
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
			if d := Backoff(n, initial, maxd); d < initial || d > hi {
				t.Fatalf("n=%d: Backoff = %v outside [%v, %v]", n, d, initial, hi)
			}
		}
	}
	if d := Backoff(3, time.Second, 0); d != time.Second {
		t.Errorf("max below initial: %v", d)
	}
}

// TestRateLimit checks the RFC 8777 §3.2.2 default: no 100 ms window holds
// more than 10 queries. Query i is let through between called[i] and
// returned[i], so query i+10 can return no sooner than a window after
// query i was asked for, however late this goroutine runs.
func TestRateLimit(t *testing.T) {
	l := newRateLimiter(DefaultQueryLimit, DefaultQueryWindow)
	var called, returned []time.Time
	start := time.Now()
	for range 25 {
		called = append(called, time.Now())
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		returned = append(returned, time.Now())
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("25 queries in %v, want at least 200 ms", d)
	}
	for i := 0; i+DefaultQueryLimit < len(called); i++ {
		if d := returned[i+DefaultQueryLimit].Sub(called[i]); d < DefaultQueryWindow {
			t.Errorf("query %d went out %v after query %d was asked for: more than %d in %v", i+DefaultQueryLimit, d, i, DefaultQueryLimit, DefaultQueryWindow)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Error("Wait on a cancelled context succeeded")
	}
	var off *rateLimiter
	if err := off.Wait(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestResolverRateLimit checks that a Resolver's queries are paced: a
// lookup needing 3 queries with a limit of 1 per 100 ms takes 200 ms.
func TestResolverRateLimit(t *testing.T) {
	srv := startServer(t, rfc8777Zone...)
	r := testResolver(srv.Addr)
	r.QueryLimit = 1
	start := time.Now()
	if _, err := lookup(t, r, rfcSource); err != nil {
		t.Fatal(err)
	}
	if d, n := time.Since(start), len(srv.queries()); d < time.Duration(n-1)*100*time.Millisecond {
		t.Errorf("%d queries in %v with 1 per 100 ms", n, d)
	}
	r = testResolver(srv.Addr)
	r.QueryLimit = -1
	if _, err := lookup(t, r, netip.MustParseAddr("198.51.100.12")); err != nil {
		t.Fatal(err)
	}
}
