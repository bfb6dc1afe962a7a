package gatewayresolver

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var dnssdZone = []string{
	"_amt._udp.example.net. 60 IN PTR a._amt._udp.example.net.",
	"_amt._udp.example.net. 60 IN PTR b._amt._udp.example.net.",
	"_amt._udp.example.net. 60 IN PTR c._amt._udp.example.net.",
	"_amt._udp.example.net. 60 IN PTR none._amt._udp.example.net.",
	"a._amt._udp.example.net. 60 IN SRV 10 60 2268 ra.example.net.",
	"a._amt._udp.example.net. 60 IN TXT \"txtvers=1\"",
	"b._amt._udp.example.net. 60 IN SRV 10 40 3000 rb.example.net.",
	"c._amt._udp.example.net. 60 IN SRV 20 0 2268 rc.example.net.",
	"none._amt._udp.example.net. 60 IN SRV 0 0 0 .",
	"ra.example.net. 60 IN A 203.0.113.1",
	"rb.example.net. 60 IN A 203.0.113.2",
	"rb.example.net. 60 IN AAAA 2001:db8::2",
	"rc.example.net. 60 IN A 203.0.113.3",
}

// TestDNSSDBrowse browses _amt._udp: PTR, then SRV and TXT, then addresses;
// SRV priority orders groups, RFC 6724 sorts inside them, the SRV port is
// kept, and a "." target is skipped.
func TestDNSSDBrowse(t *testing.T) {
	for _, additional := range []bool{false, true} {
		srv := startServer(t, dnssdZone...)
		srv.with(func() { srv.additional = additional })
		r := testResolver(srv.Addr)
		r.Tiers = []Tier{TierDNSSD}
		r.DNSSDDomains = []string{"example.net"}
		res, err := lookup(t, r, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		got := addrsOfCands(res.Candidates)
		if len(got) != 4 || got[0] != "2001:db8::2" || got[3] != "203.0.113.3" || !slices.Contains(got, "203.0.113.1") || !slices.Contains(got, "203.0.113.2") {
			t.Fatalf("additional=%v: order %v", additional, got)
		}
		for _, c := range res.Candidates {
			if c.Tier != TierDNSSD || !c.Usable {
				t.Errorf("%+v", c)
			}
			switch c.Addr.Addr().String() {
			case "203.0.113.1":
				if c.Addr.Port() != 2268 || c.Priority != 10 || c.Weight != 60 || c.Name != "ra.example.net." || c.Instance != "a._amt._udp.example.net." || !slices.Equal(c.TXT, []string{"txtvers=1"}) {
					t.Errorf("ra: %+v", c)
				}
			case "2001:db8::2", "203.0.113.2":
				if c.Addr.Port() != 3000 {
					t.Errorf("rb port: %v", c.Addr)
				}
			}
		}
		if r := res.Candidates[3].Reason; !strings.Contains(r, "SRV priority 20 after priority 10") {
			t.Errorf("reason %q", r)
		}
		addrQueries := 0
		for _, q := range srv.queries() {
			if strings.HasSuffix(q, " A") || strings.HasSuffix(q, " AAAA") {
				addrQueries++
			}
		}
		if additional && addrQueries != 0 || !additional && addrQueries != 6 {
			t.Errorf("additional=%v: %d address queries: %v", additional, addrQueries, srv.queries())
		}
	}
}

// TestDNSSDSearchList takes the domains from resolv.conf's search list and
// the b._dns-sd._udp browsing-domain records (RFC 6763 §11).
func TestDNSSDSearchList(t *testing.T) {
	srv := startServer(t, append(dnssdZone, "b._dns-sd._udp.corp.example. 60 IN PTR example.net.")...)
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.1\nsearch corp.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testResolver(srv.Addr)
	r.ResolvConf = conf
	r.Tiers = []Tier{TierDNSSD}
	res, err := lookup(t, r, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 4 {
		t.Errorf("candidates %v, notes %v", addrsOfCands(res.Candidates), res.Notes)
	}
	for _, want := range []string{"udp b._dns-sd._udp.corp.example. PTR", "udp _amt._udp.corp.example. PTR", "udp _amt._udp.example.net. PTR"} {
		if !slices.Contains(srv.queries(), want) {
			t.Errorf("no query %q in %v", want, srv.queries())
		}
	}
}

// TestDNSSDUnresolvedTarget lists an SRV target without addresses as
// unusable.
func TestDNSSDUnresolvedTarget(t *testing.T) {
	srv := startServer(t,
		"_amt._udp.example.net. 60 IN PTR a._amt._udp.example.net.",
		"a._amt._udp.example.net. 60 IN SRV 10 0 2268 gone.example.net.",
	)
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDNSSD}
	r.DNSSDDomains = []string{"example.net."}
	res, err := lookup(t, r, netip.Addr{})
	if err == nil || len(res.Candidates) != 1 || res.Candidates[0].Usable || !strings.Contains(res.Candidates[0].Reason, "SRV target did not resolve") {
		t.Errorf("err %v, %+v", err, res.Candidates)
	}
}

// TestSRVWeight checks that SRV weight biases the pseudorandom order of
// tied candidates (RFC 2782): weight 60 goes first about 60% of the time.
func TestSRVWeight(t *testing.T) {
	cands := []Candidate{
		{Addr: netip.MustParseAddrPort("203.0.113.1:2268"), Tier: TierDNSSD, Priority: 10, Weight: 60},
		{Addr: netip.MustParseAddrPort("203.0.113.2:2268"), Tier: TierDNSSD, Priority: 10, Weight: 40},
		{Addr: netip.MustParseAddrPort("203.0.113.3:2268"), Tier: TierDNSSD, Priority: 10, Weight: 0},
	}
	const runs = 1000
	first := map[string]int{}
	r := &Resolver{SourceFor: testSources, Rand: rand.New(rand.NewPCG(7, 7))}
	for range runs {
		out := r.order(slices.Clone(cands))
		first[out[0].Addr.Addr().String()]++
		if !strings.Contains(out[1].Reason, "tied with") {
			t.Fatalf("reason %q", out[1].Reason)
		}
	}
	if n := first["203.0.113.1"]; n < 520 || n > 680 {
		t.Errorf("weight 60 first %d times in %d", n, runs)
	}
	if n := first["203.0.113.3"]; n > 10 {
		t.Errorf("weight 0 first %d times in %d", n, runs)
	}
}

// TestAddressDerivedDomains (issue #10): DNS-SD runs RFC 6763 §11
// address-derived Domain Enumeration: b and lb PTR queries under the
// reverse name of each subnet of the host (not link-local, not
// loopback), then browses the domains learned. The interface list is
// injected. The old code ran no such query.
func TestAddressDerivedDomains(t *testing.T) {
	srv := startServer(t, append(dnssdZone,
		"lb._dns-sd._udp.0.2.0.192.in-addr.arpa. 60 IN PTR example.net.",
		"b._dns-sd._udp.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 60 IN PTR other.example.",
	)...)
	r := testResolver(srv.Addr)
	r.Tiers = []Tier{TierDNSSD}
	r.InterfaceAddrs = func() ([]netip.Prefix, error) {
		return []netip.Prefix{
			netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("fd00::2/64"),
			netip.MustParsePrefix("fe80::1/64"), netip.MustParsePrefix("169.254.1.1/16"),
			netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128"),
		}, nil
	}
	res, err := lookup(t, r, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 4 {
		t.Errorf("candidates %v, notes %v", addrsOfCands(res.Candidates), res.Notes)
	}
	q := srv.queries()
	for _, want := range []string{
		"udp lb._dns-sd._udp.0.2.0.192.in-addr.arpa. PTR", "udp b._dns-sd._udp.0.2.0.192.in-addr.arpa. PTR",
		"udp lb._dns-sd._udp.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"udp _amt._udp.example.net. PTR", "udp _amt._udp.other.example. PTR",
	} {
		if !slices.Contains(q, want) {
			t.Errorf("no query %q", want)
		}
	}
	for _, s := range q {
		if strings.Contains(s, "254.169.in-addr") || strings.Contains(s, "127.in-addr") || strings.Contains(s, ".8.e.f.ip6.arpa") || strings.HasSuffix(s, "0.0.0.0.ip6.arpa. PTR") && !strings.Contains(s, "d.f.ip6") {
			t.Errorf("queried %q for a link-local or loopback subnet", s)
		}
	}
}
