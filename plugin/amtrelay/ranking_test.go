package amtrelay

import (
	"slices"
	"testing"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/miekg/dns"
)

// TestPerSourcePolicy: a source block overrides the block-wide policy.
func TestPerSourcePolicy(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay cam 192.0.2.1 {
			location 52.2053 0.1218
		}
		relay syd 192.0.2.3 {
			location -33.8688 151.2093
		}
		source 198.51.100.0/25
		source 198.51.100.128/25 {
			policy closest
		}
		policy failover
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.128/26")); got[0] != "0 192.0.2.1" {
		t.Errorf("failover source: %q", got)
	}
	if got := order(t, ask(t, a, "198.51.100.200", "127.0.0.1", "203.0.113.128/26")); got[0] != "0 192.0.2.3" {
		t.Errorf("closest source: %q", got)
	}
}

// TestTiesSharePrecedence: two relays at the same place share a
// precedence, so gateways choose between them at random.
func TestTiesSharePrecedence(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay a 192.0.2.1 {
			location 51.5 0
		}
		relay b 192.0.2.2 {
			location 51.5 0
		}
		relay c 192.0.2.3 {
			location 40 -74
		}
		source 198.51.100.0/24
		policy closest
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")); !slices.Equal(got, []string{"0 192.0.2.1", "0 192.0.2.2", "1 192.0.2.3"}) {
		t.Errorf("tied relays: %q", got)
	}
}

// TestOtherTypesDoNotRank: a PTR query at a source name is NODATA, and
// runs no policy: with every relay drained and all-down servfail it must
// not SERVFAIL.
func TestOtherTypesDoNotRank(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay r 192.0.2.1 {
			drain
		}
		source 198.51.100.0/24
		all-down servfail
	}`)
	resp, rcode, _ := serve(t, a, new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypePTR))
	if rcode != dns.RcodeSuccess || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 || len(resp.Ns) != 1 {
		t.Errorf("PTR: rcode %d, reply %v", rcode, resp)
	}
	if _, rcode, _ := serve(t, a, new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)); rcode != dns.RcodeServerFailure {
		t.Errorf("AMTRELAY with every relay drained: rcode %d, want SERVFAIL", rcode)
	}
}

// TestNoRelayCounted: a "none" source's answers count as relay "none",
// as the README says.
func TestNoRelayCounted(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	k := blockKey{labels: queryLabels{"", ".", ""}, a: "static"}
	before := countOf(answers, k, "none")
	serve(t, a, new(dns.Msg).SetQuestion("130.113.0.203.in-addr.arpa.", dns.TypeAMTRELAY))
	if countOf(answers, k, "none") != before+1 {
		t.Error("the no-relay answer was not counted")
	}
}

// TestAllDown: the three all-down behaviours.
func TestAllDown(t *testing.T) {
	for _, tc := range []struct {
		action string
		check  func(t *testing.T, r *dns.Msg)
	}{
		{"fail-open", func(t *testing.T, r *dns.Msg) {
			if got := order(t, r); len(got) != 3 {
				t.Errorf("fail-open answered %q, want all three relays", got)
			}
		}},
		{"no-relay", func(t *testing.T, r *dns.Msg) {
			if got := relays(t, r.Answer); !slices.Equal(got, []string{"0 0 0 ."}) {
				t.Errorf("no-relay answered %q", got)
			}
		}},
		{"servfail", func(t *testing.T, r *dns.Msg) {
			if r.Rcode != dns.RcodeServerFailure {
				t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
			}
		}},
	} {
		t.Run(tc.action, func(t *testing.T) {
			relays, port := loopbackRelays(t)
			for _, r := range relays {
				r.Set(amttest.Behaviour{Drop: true})
			}
			a := startedHandler(t, healthCorefile(port, "all-down "+tc.action), nil)
			waitReady(t, a)
			tc.check(t, ask(t, a, "198.51.100.1", "127.0.0.1", ""))
		})
	}
}
