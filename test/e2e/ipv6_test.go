package e2e

import (
	"testing"

	"github.com/miekg/dns"
)

// ipv6 is scenario (e): an IPv6 source, through ip6.arpa (the root's
// ip6.arpa delegates 2001:db8::/32 to Network 1, which delegates
// 2001:db8:100::/48 to the AMT DNS), and IPv6 relays: the gateway
// connects to 1a over IPv6, asking for an MLDv2 query (RFC 7450
// §5.1.3.4).
func (tb *testbed) ipv6(t *testing.T) {
	tb.flushS1(t)
	g := tb.connect(t, source1v6, "-mld")
	logTimings(t, g)
	wantRelay(t, g, relay1a6)
	for _, a := range g.addresses() {
		if a != relay1a6 && a != relay1b6 {
			t.Errorf("candidate %s: want only Network 1's IPv6 relays", a)
		}
	}
	seed := "amt." + reverse6
	r := query(t, nsUser, "127.0.0.1", seed, dns.TypeAAAA)
	if got := addresses(r); len(got) != 1 || got[0] != relay1a6 {
		t.Errorf("%s AAAA through Unbound: %s %v, want %s", seed, dns.RcodeToString[r.Rcode], got, relay1a6)
	}
}
