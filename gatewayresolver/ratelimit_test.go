package gatewayresolver

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRateLimit checks the RFC 8777 §3.2.2 default: no 100 ms window holds
// more than 10 sends. The write runs inside the limit, so the times it
// records are the send times, whatever the scheduler does.
func TestRateLimit(t *testing.T) {
	l := newRateLimiter(defaultQueryLimit, queryWindow)
	var sent []time.Time
	start := time.Now()
	for range 25 {
		if err := l.send(context.Background(), func() error { sent = append(sent, time.Now()); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("25 sends in %v, want at least 200 ms", d)
	}
	checkWindows(t, sent, defaultQueryLimit, queryWindow)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.send(ctx, func() error { t.Error("wrote on a cancelled context"); return nil }); err == nil {
		t.Error("send on a cancelled context succeeded")
	}
	var off *rateLimiter
	if err := off.send(context.Background(), func() error { return nil }); err != nil {
		t.Error(err)
	}
}

// checkWindows fails unless, in sorted times, any n+1 consecutive sends
// span at least window.
func checkWindows(t *testing.T, times []time.Time, n int, window time.Duration) {
	t.Helper()
	times = slices.Clone(times)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 0; i+n < len(times); i++ {
		if d := times[i+n].Sub(times[i]); d < window {
			t.Errorf("sends %d and %d were %v apart: %d in one %v window", i+1, i+n+1, d, n+1, window)
		}
	}
}

// TestRateLimitAtSend (issue #10): the limit holds at the moment a query
// is sent. The first query's sender is slow on its way to the socket (its
// hook sleeps 30 ms); the old limiter, which counted a query when it was
// allowed, let 11 queries out in one 100 ms window. The hook runs where the
// query is written.
func TestRateLimitAtSend(t *testing.T) {
	srv := startServer(t, "x.example. 60 IN A 203.0.113.1")
	r := testResolver(srv.Addr)
	var mu sync.Mutex
	var sent []time.Time
	first := true
	r.sendHook = func() {
		mu.Lock()
		slow := first
		first = false
		mu.Unlock()
		if slow {
			time.Sleep(30 * time.Millisecond) // descheduled on the way to the socket
		}
		mu.Lock()
		sent = append(sent, time.Now())
		mu.Unlock()
	}
	r.init()
	s, err := r.newSession()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() { s.query(context.Background(), "x.example.", dns.TypeA) })
	}
	wg.Wait()
	if len(sent) != 25 {
		t.Fatalf("%d sends", len(sent))
	}
	checkWindows(t, sent, defaultQueryLimit, queryWindow)
}

// TestResolverRateLimit checks that a Resolver's queries are paced: a
// lookup needing n queries with a limit of 1 per 100 ms takes (n-1)·100 ms.
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
