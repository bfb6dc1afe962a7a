package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// seedExample is scenario (a), the seeds' walk-through: the end user's
// Unbound walks from its root hints down to the AMT DNS that Network 1's
// reverse zone delegates S1's prefix to; the anycast instance nearest the
// end user (Network 1's A) answers with the least loaded relay first; the
// gateway connects to relay 1a by Happy Eyeballs (RFC 8777 §3.2). The
// seed-style amt.<reverse name> A query resolves through the same chain.
func (tb *testbed) seedExample(t *testing.T) {
	tb.flushAll(t)
	g := tb.connect(t, source1)
	logTimings(t, g)
	wantRelay(t, g, relay1a)
	if tried := g.tried(); tried[0] != relay1a {
		t.Errorf("the gateway tried %v first, want 1a (precedence 0)", tried)
	}

	// The chain: Unbound learnt the delegation of S1's zone to the AMT
	// DNS name from Network 1's authority, and the name's anycast
	// address from the example. zone.
	lookup := nsUser.run(t, "unbound-control", "-c", tb.unboundConf, "lookup", reverse4)
	if !strings.Contains(lookup, s1Zone4) || !strings.Contains(lookup, amtDNSName) {
		t.Errorf("Unbound's delegation for %s does not go to %s at %s:\n%s", reverse4, amtDNSName, s1Zone4, lookup)
	}
	// Unbound rotates the records of an RRset (rrset-roundrobin): the
	// precedences carry the order.
	via := ranked(t, "127.0.0.1")
	slices.Sort(via)
	wantRanked(t, "AMTRELAY through Unbound, by precedence", via, []string{"0 " + relay1a, "1 " + relay1b})

	seed := "amt." + reverse4
	r := query(t, nsUser, "127.0.0.1", seed, dns.TypeA)
	if got := addresses(r); r.Rcode != dns.RcodeSuccess || len(got) != 1 || got[0] != relay1a {
		t.Errorf("%s A through Unbound: %s %v, want %s", seed, dns.RcodeToString[r.Rcode], got, relay1a)
	}
}
