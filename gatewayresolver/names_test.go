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

// resolveRun resolves name with r as a lookup would, and returns the
// batches found, each with the time it was passed on, once want batches
// have come or the resolution has ended; then it cancels the rest.
func resolveRun(t *testing.T, r *Resolver, name string, want int) (got []timedBatch, err error, done bool) {
	t.Helper()
	r.init()
	s, serr := r.newSession()
	if serr != nil {
		t.Fatal(serr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := &tierRun{r: r, f: newFeed(r), s: s, tier: TierDRIAD}
	start := time.Now()
	batches := make(chan timedBatch, 8)
	errc := make(chan error, 1)
	go func() {
		errc <- tr.resolve(ctx, name, func(b addrBatch) { batches <- timedBatch{b.addrs, time.Since(start)} })
	}()
	for {
		select {
		case b := <-batches:
			got = append(got, b)
			if len(got) == want {
				cancel()
				<-errc
				return got, nil, false
			}
		case err := <-errc:
			for len(batches) > 0 {
				got = append(got, <-batches)
			}
			return got, err, true
		}
	}
}

type timedBatch struct {
	addrs []netip.Addr
	at    time.Duration
}

// TestResolutionDelay checks RFC 8305 §3 as a stream: AAAA addresses are
// passed on when they come; A addresses that come first wait for the AAAA
// answer, or for the Resolution Delay, and no longer; an empty answer
// holds nothing back; a late answer still joins. A query that never gets
// an answer times out after a minute here, past the 30 s limit, so a
// batch within seconds shows that the delay released it.
func TestResolutionDelay(t *testing.T) {
	srv := startServer(t, "relay.example. 60 IN A 203.0.113.1", "relay.example. 60 IN AAAA 2001:db8::1")
	aaaa, a := qkey("relay.example.", dns.TypeAAAA), qkey("relay.example.", dns.TypeA)

	// An AAAA answer within the delay goes first, and the A addresses
	// right after it. (The delay is long, so a slow machine cannot miss
	// it; the wait ends when AAAA answers.)
	r := testResolver(srv.Addr)
	r.resolutionDelay = 20 * time.Second
	srv.with(func() { srv.delay[aaaa] = 20 * time.Millisecond })
	got, err, _ := resolveRun(t, r, "relay.example.", 2)
	if err != nil || len(got) != 2 || !slices.Equal(got[0].addrs, addrs("2001:db8::1")) || !slices.Equal(got[1].addrs, addrs("203.0.113.1")) || got[1].at > 10*time.Second {
		t.Errorf("AAAA 20 ms late: %v, %v", got, err)
	}

	// An AAAA query that is never answered holds the A addresses back for
	// the default 50 ms only; the resolution itself goes on.
	r = testResolver(srv.Addr)
	r.RetryInitial = time.Minute
	srv.with(func() { delete(srv.delay, aaaa); srv.drop[aaaa] = 1000 })
	got, _, done := resolveRun(t, r, "relay.example.", 1)
	if len(got) != 1 || !slices.Equal(got[0].addrs, addrs("203.0.113.1")) || done {
		t.Errorf("AAAA unanswered: %v, ended %v", got, done)
	} else if got[0].at < defaultResolutionDelay || got[0].at > 10*time.Second {
		t.Errorf("AAAA unanswered: A passed on after %v, want the %v delay, not the 1 min query timeout", got[0].at, defaultResolutionDelay)
	}

	// AAAA addresses do not wait for A.
	srv.with(func() { delete(srv.drop, aaaa); srv.drop[a] = 1000 })
	got, _, _ = resolveRun(t, r, "relay.example.", 1)
	if len(got) != 1 || !slices.Equal(got[0].addrs, addrs("2001:db8::1")) || got[0].at > 10*time.Second {
		t.Errorf("A unanswered: %v", got)
	}

	// An empty AAAA answer holds nothing back: A is passed on when it
	// comes.
	srv2 := startServer(t, "v4only.example. 60 IN A 203.0.113.2")
	srv2.with(func() { srv2.delay[qkey("v4only.example.", dns.TypeA)] = 150 * time.Millisecond })
	got, err, done = resolveRun(t, testResolver(srv2.Addr), "v4only.example.", 2)
	if err != nil || !done || len(got) != 1 || !slices.Equal(got[0].addrs, addrs("203.0.113.2")) {
		t.Errorf("v4 only: %v, %v", got, err)
	}
}

// resolve resolves name and returns all its addresses.
func resolve(t *testing.T, r *Resolver, name string) ([]netip.Addr, error) {
	got, err, _ := resolveRun(t, r, name, -1)
	var out []netip.Addr
	for _, b := range got {
		out = append(out, b.addrs...)
	}
	return out, err
}

func TestResolveNameFails(t *testing.T) {
	srv := startServer(t, "relay.example. 60 IN TXT \"no addresses\"")
	_, err := resolve(t, testResolver(srv.Addr), "relay.example.")
	if !errors.Is(err, errNoAddresses) {
		t.Errorf("err = %v", err)
	}
	_, err = resolve(t, testResolver(srv.Addr), "missing.example.")
	if !errors.Is(err, errNoAddresses) {
		t.Errorf("NXDOMAIN: err = %v", err)
	}
	// Addresses no relay can have are dropped.
	srv.add(t, "bad.example. 60 IN A 0.0.0.0", "bad.example. 60 IN A 224.0.0.1", "bad.example. 60 IN AAAA ::ffff:203.0.113.1", "bad.example. 60 IN AAAA ff02::1")
	if got, err := resolve(t, testResolver(srv.Addr), "bad.example."); len(got) != 0 || !strings.Contains(err.Error(), "no AAAA or A") {
		t.Errorf("bad addresses: %v, %v", got, err)
	}
}
