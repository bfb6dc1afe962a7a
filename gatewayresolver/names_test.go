package gatewayresolver

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func resolve(t *testing.T, r *Resolver, name string) ([]netip.Addr, time.Duration, error) {
	t.Helper()
	s, err := r.newSession()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	addrs, err := s.resolveName(ctx, name)
	return addrs, time.Since(start), err
}

// TestResolutionDelay checks RFC 8305 §3: after the A answer, the AAAA
// answer is waited for the Resolution Delay and no longer; an empty answer
// ends no wait. A query that never gets an answer times out after a
// minute here, past resolve's 30 s limit, so returning within seconds
// shows that the delay ended the wait.
func TestResolutionDelay(t *testing.T) {
	srv := startServer(t, "relay.example. 60 IN A 203.0.113.1", "relay.example. 60 IN AAAA 2001:db8::1")
	aaaa, a := qkey("relay.example.", dns.TypeAAAA), qkey("relay.example.", dns.TypeA)

	// An AAAA answer within the delay is kept. (The delay is long, so a
	// slow machine cannot miss it; the wait ends when AAAA answers.)
	r := testResolver(srv.Addr)
	r.ResolutionDelay = 20 * time.Second
	srv.with(func() { srv.delay[aaaa] = 20 * time.Millisecond })
	got, took, err := resolve(t, r, "relay.example.")
	if err != nil || !slices.Equal(got, addrs("2001:db8::1", "203.0.113.1")) || took > 10*time.Second {
		t.Errorf("AAAA 20 ms late: %v, %v in %v", got, err, took)
	}

	// An AAAA query that is never answered is given up on after the
	// default 50 ms.
	r = testResolver(srv.Addr)
	r.RetryInitial = time.Minute
	srv.with(func() { delete(srv.delay, aaaa); srv.drop[aaaa] = 1000 })
	got, took, err = resolve(t, r, "relay.example.")
	if err != nil || !slices.Equal(got, addrs("203.0.113.1")) {
		t.Errorf("AAAA unanswered: %v, %v", got, err)
	}
	if took < DefaultResolutionDelay || took > 10*time.Second {
		t.Errorf("AAAA unanswered: took %v, want the %v delay, not the 1 min query timeout", took, DefaultResolutionDelay)
	}

	// The A answer also gets the delay when AAAA comes first.
	srv.with(func() { delete(srv.drop, aaaa); srv.drop[a] = 1000 })
	got, took, _ = resolve(t, r, "relay.example.")
	if !slices.Equal(got, addrs("2001:db8::1")) || took < DefaultResolutionDelay || took > 10*time.Second {
		t.Errorf("A unanswered: %v in %v", got, took)
	}

	// An empty AAAA answer does not start the delay: A is waited for.
	srv2 := startServer(t, "v4only.example. 60 IN A 203.0.113.2")
	srv2.with(func() { srv2.delay[qkey("v4only.example.", dns.TypeA)] = 150 * time.Millisecond })
	got, _, err = resolve(t, testResolver(srv2.Addr), "v4only.example.")
	if err != nil || !slices.Equal(got, addrs("203.0.113.2")) {
		t.Errorf("v4 only: %v, %v", got, err)
	}
}

func TestResolveNameFails(t *testing.T) {
	srv := startServer(t, "relay.example. 60 IN TXT \"no addresses\"")
	_, _, err := resolve(t, testResolver(srv.Addr), "relay.example.")
	if !errors.Is(err, errNoAddresses) {
		t.Errorf("err = %v", err)
	}
	_, _, err = resolve(t, testResolver(srv.Addr), "missing.example.")
	if !errors.Is(err, errNoAddresses) {
		t.Errorf("NXDOMAIN: err = %v", err)
	}
	// Addresses no relay can have are dropped.
	srv.add(t, "bad.example. 60 IN A 0.0.0.0", "bad.example. 60 IN A 224.0.0.1", "bad.example. 60 IN AAAA ::ffff:203.0.113.1", "bad.example. 60 IN AAAA ff02::1")
	if got, _, err := resolve(t, testResolver(srv.Addr), "bad.example."); len(got) != 0 || !strings.Contains(err.Error(), "no AAAA or A") {
		t.Errorf("bad addresses: %v, %v", got, err)
	}
}
