package gatewayresolver

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLookupAllTiers: DNS-SD, then anycast, then DRIAD by precedence
// (RFC 8777 §3.1.2). Anycast is on; nothing is sent to it, since ordering
// needs only the injected source lookup.
func TestLookupAllTiers(t *testing.T) {
	srv := startServer(t, append(dnssdZone, rfc8777Zone...)...)
	r := testResolver(srv.Addr)
	r.Tiers = nil // the default: DNS-SD, anycast, DRIAD
	r.DNSSDDomains = []string{"example.net"}
	res, err := lookup(t, r, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	var tiers []string
	for _, c := range res.Candidates {
		tiers = append(tiers, c.Tier.String())
	}
	want := []string{"dns-sd", "dns-sd", "dns-sd", "dns-sd", "anycast", "anycast", "driad", "driad", "driad", "driad"}
	if !slices.Equal(tiers, want) {
		t.Fatalf("tiers %v, want %v", tiers, want)
	}
	got := addrsOfCands(res.Candidates)
	if got[4] != "2001:3::1" || got[5] != "192.52.193.1" || got[6] != "2001:db8::15" {
		t.Errorf("order %v", got)
	}
	if c := res.Candidates[4]; c.Reason != "anycast tier comes after dns-sd (RFC 8777 §3.1.2)" || c.Addr.Port() != 2268 {
		t.Errorf("anycast: %+v", c)
	}
	if c := res.Candidates[6]; !strings.HasPrefix(c.Reason, "driad tier comes after anycast (RFC 8777 §3.1.2), precedence 10") {
		t.Errorf("first DRIAD reason %q", c.Reason)
	}

	// Administrative override (RFC 8777 §3.1.2): DRIAD first.
	r = testResolver(srv.Addr)
	r.Tiers = []Tier{TierDRIAD, TierAnycast, TierDNSSD}
	r.DNSSDDomains = []string{"example.net"}
	res, err = lookup(t, r, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	tiers = tiers[:0]
	for _, c := range res.Candidates {
		tiers = append(tiers, c.Tier.String())
	}
	want = []string{"driad", "driad", "driad", "driad", "anycast", "anycast", "dns-sd", "dns-sd", "dns-sd", "dns-sd"}
	if !slices.Equal(tiers, want) || !strings.Contains(res.Candidates[0].Reason, "configured tier order") {
		t.Errorf("overridden tiers %v; %q", tiers, res.Candidates[0].Reason)
	}
}

func drCand(addr string, prec uint8) Candidate {
	return Candidate{Addr: netip.AddrPortFrom(netip.MustParseAddr(addr), 2268), Tier: TierDRIAD, Precedence: prec}
}

// TestOrderHoldDownIsRule1: a relay in hold-down is unusable under RFC 6724
// Rule 1 (RFC 8777 §3.1.2): last in its group, marked, with the end time.
func TestOrderHoldDownIsRule1(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	r := &Resolver{SourceFor: testSources, Rand: rand.New(rand.NewPCG(1, 1)), HoldDown: &HoldDown{Now: clock.Now}}
	cands := []Candidate{drCand("2001:db8::15", 10), drCand("203.0.113.15", 10), drCand("203.0.113.99", 20)}
	r.Holds().Add(cands[0].Addr, 10*time.Minute, "limit: full")
	out := r.order(cands)
	if got := addrsOfCands(out); !slices.Equal(got, []string{"203.0.113.15", "2001:db8::15", "203.0.113.99"}) {
		t.Fatalf("order %v", got)
	}
	held := out[1]
	if held.Usable || !held.HeldUntil.Equal(clock.now.Add(10*time.Minute)) || !strings.Contains(held.Reason, "in hold-down until 12:10:00 (limit: full") {
		t.Errorf("held candidate %+v", held)
	}
	clock.Advance(10 * time.Minute)
	if out := r.order(cands); !out[0].Usable || out[0].Addr.Addr().String() != "2001:db8::15" {
		t.Errorf("after the hold-down: %v", addrsOfCands(out))
	}
}

// TestOrderTieBreak: relays tied after RFC 6724 come out in a pseudorandom
// order, reproducible with a seeded Rand; Bias weights it.
func TestOrderTieBreak(t *testing.T) {
	// Same /24-less source, same common prefix (0 bits) with each.
	cands := []Candidate{drCand("198.51.100.1", 10), drCand("203.0.113.1", 10), drCand("203.0.113.2", 10)}
	seen := map[string]bool{}
	for seed := range uint64(40) {
		r := &Resolver{SourceFor: testSources, Rand: rand.New(rand.NewPCG(seed, 0))}
		a := addrsOfCands(r.order(slices.Clone(cands)))
		r2 := &Resolver{SourceFor: testSources, Rand: rand.New(rand.NewPCG(seed, 0))}
		if b := addrsOfCands(r2.order(slices.Clone(cands))); !slices.Equal(a, b) {
			t.Fatalf("seed %d: %v then %v", seed, a, b)
		}
		seen[strings.Join(a, " ")] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d of 6 permutations seen in 40 seeds: %v", len(seen), seen)
	}

	// Bias: weight 0 always goes last among ties; weight 9 mostly first.
	first := 0
	for seed := range uint64(200) {
		r := &Resolver{SourceFor: testSources, Rand: rand.New(rand.NewPCG(seed, 1)), Bias: func(c Candidate) float64 {
			switch c.Addr.Addr().String() {
			case "198.51.100.1":
				return 0
			case "203.0.113.2":
				return 9
			}
			return 1
		}}
		out := addrsOfCands(r.order(slices.Clone(cands)))
		if out[2] != "198.51.100.1" {
			t.Fatalf("zero-weight relay at %v", out)
		}
		if out[0] == "203.0.113.2" {
			first++
		}
	}
	if first < 160 {
		t.Errorf("weight 9 vs 1 first %d times in 200", first)
	}
}

// TestOrderRFC6724InsideTierOnly: RFC 6724 never overrides precedence
// (RFC 8777 §3.1.2): IPv6 at precedence 20 stays after IPv4 at 10.
func TestOrderRFC6724InsideTierOnly(t *testing.T) {
	r := &Resolver{SourceFor: testSources}
	out := r.order([]Candidate{drCand("2001:db8::1", 20), drCand("203.0.113.1", 10), drCand("2001:db8::2", 10)})
	if got := addrsOfCands(out); !slices.Equal(got, []string{"2001:db8::2", "203.0.113.1", "2001:db8::1"}) {
		t.Errorf("order %v", got)
	}
}

// order sorts cands as a lookup would.
func (r *Resolver) order(cands []Candidate) []Candidate {
	r.init()
	f := newFeed(r)
	for _, c := range cands {
		f.add(c)
	}
	res := &Result{}
	f.fill(res)
	return res.Candidates
}

// TestFamilyInterleaving (issue #10): inside a precedence group the
// families alternate after the First Address Family Count (RFC 8305 §4),
// so that broken IPv6 costs one attempt delay, not one per IPv6 address.
// The old order put every IPv6 address of the group first.
func TestFamilyInterleaving(t *testing.T) {
	owner := "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 "
	srv := startServer(t, owner+"2 2001:db8::1", owner+"2 2001:db8::2", owner+"2 2001:db8::3", owner+"1 203.0.113.1", owner+"1 203.0.113.2",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 1 203.0.113.20", "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 2 2001:db8::20")
	for _, tc := range []struct {
		count int
		want  []string
	}{
		{0, []string{"v6", "v4", "v6", "v4", "v6", "v6", "v4"}},
		{2, []string{"v6", "v6", "v4", "v6", "v4", "v6", "v4"}},
		{-1, []string{"v6", "v6", "v6", "v4", "v4", "v6", "v4"}},
	} {
		r := testResolver(srv.Addr)
		r.FirstAddressFamilyCount = tc.count
		res, err := lookup(t, r, rfcSource)
		if err != nil {
			t.Fatal(err)
		}
		var fam []string
		for _, c := range res.Candidates {
			fam = append(fam, map[bool]string{true: "v4", false: "v6"}[c.Addr.Addr().Is4()])
		}
		if !slices.Equal(fam, tc.want) {
			t.Errorf("FirstAddressFamilyCount %d: families %v, want %v (RFC 8305 §4)", tc.count, fam, tc.want)
		}
		if tc.count == 0 {
			if r := res.Candidates[2].Reason; !strings.Contains(r, "RFC 8305 §4 address family interleaving") {
				t.Errorf("third candidate's reason %q", r)
			}
			if r := res.Candidates[1].Reason; !strings.Contains(r, "moved up by RFC 8305 §4") {
				t.Errorf("second candidate's reason %q", r)
			}
		}
		// The IPv6 addresses keep their RFC 6724 order among themselves.
		var v6 []string
		for _, c := range res.Candidates[:5] {
			if c.Addr.Addr().Is6() {
				v6 = append(v6, c.Addr.Addr().String())
			}
		}
		if len(v6) != 3 {
			t.Errorf("v6 %v", v6)
		}
	}
}
