package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

const soa = `$TTL 60
@ IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 60
@ IN NS ns.example.com.
`

// bindZones is the RFC 8777 §4.3.2 zone (errata-corrected) and cases
// around it, in zone-file form for BIND.
func bindZones() map[string]string {
	var big strings.Builder
	for i := range 100 {
		fmt.Fprintf(&big, "99 IN AMTRELAY 50 0 2 2001:db8:99::%x\n", i+1)
	}
	return map[string]string{
		"100.51.198.in-addr.arpa.": soa + `
12 IN AMTRELAY  10 0 1 203.0.113.15
12 IN AMTRELAY  10 0 2 2001:db8::15
12 IN AMTRELAY 128 1 3 amtrelays.example.com.
13 IN AMTRELAY   5 1 1 203.0.113.13
13 IN AMTRELAY   5 1 3 amtrelays.example.com.
14 IN CNAME 14.0-25.100.51.198.in-addr.arpa.
14.0-25 IN AMTRELAY 20 0 2 2001:db8::14
15 IN AMTRELAY 0 0 0 .
16 IN AMTRELAY 10 0 3 unknown.example.com.
16 IN AMTRELAY 20 0 1 203.0.113.160
17 IN CNAME 17.loop.100.51.198.in-addr.arpa.
17.loop IN CNAME 17.100.51.198.in-addr.arpa.
` + big.String(),
		"8.b.d.0.1.0.0.2.ip6.arpa.": soa + `
0.0.0.0.0.0.0.0 IN DNAME v6.sources.example.com.
`,
		"example.com.": soa + `
ns IN A 127.0.0.1
amtrelays IN A 203.0.113.16
amtrelays IN AAAA 2001:db8::16
a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.v6.sources IN AMTRELAY 30 1 2 2001:db8::61
`,
	}
}

// TestBINDInterop resolves sources against BIND named serving AMTRELAY
// zones: the RFC 8777 example in order, a D=1 record, an RFC 2317-style
// CNAME, a DNAME for an IPv6 source, a type-0 record, an unresolvable
// type-3 name, a CNAME loop, and an answer too big for UDP (retried over
// TCP).
func TestBINDInterop(t *testing.T) {
	addr := testenv.StartNamed(t, bindZones())
	r := testResolver(addr)
	for _, tc := range []struct {
		source string
		want   []string
		check  func(t *testing.T, res *Result, err error)
	}{
		{"198.51.100.12", []string{"2001:db8::15", "203.0.113.15", "2001:db8::16", "203.0.113.16"}, func(t *testing.T, res *Result, err error) {
			if c := res.Candidates[2]; c.Precedence != 128 || !c.DiscoveryOptional || c.Name != "amtrelays.example.com." {
				t.Errorf("type-3 candidate %+v", c)
			}
		}},
		{"198.51.100.13", nil, func(t *testing.T, res *Result, err error) {
			// 203.0.113.13 and .16 tie under RFC 6724: their order is the
			// pseudorandom tie-break's.
			got := addrsOfCands(res.Candidates)
			if err != nil || len(got) != 3 || got[0] != "2001:db8::16" || !slices.Contains(got, "203.0.113.13") || !slices.Contains(got, "203.0.113.16") {
				t.Fatalf("order %v, %v", got, err)
			}
			if !strings.Contains(res.Candidates[2].Reason, "tied with "+got[1]) {
				t.Errorf("reason %q", res.Candidates[2].Reason)
			}
			for _, c := range res.Candidates {
				if !c.DiscoveryOptional || c.Precedence != 5 {
					t.Errorf("D=1 candidate %+v", c)
				}
			}
		}},
		{"198.51.100.14", []string{"2001:db8::14"}, nil},
		{"2001:db8::a", []string{"2001:db8::61"}, func(t *testing.T, res *Result, err error) {
			if !res.Candidates[0].DiscoveryOptional || res.Candidates[0].Precedence != 30 {
				t.Errorf("DNAME candidate %+v", res.Candidates[0])
			}
		}},
		{"198.51.100.15", nil, func(t *testing.T, res *Result, err error) {
			if !errors.Is(err, ErrNoRelay) {
				t.Errorf("type 0: err %v", err)
			}
		}},
		{"198.51.100.16", []string{"unknown.example.com?", "203.0.113.160"}, func(t *testing.T, res *Result, err error) {
			if res.Candidates[0].Usable || !strings.Contains(res.Candidates[0].Reason, "did not resolve") {
				t.Errorf("unresolved %+v", res.Candidates[0])
			}
		}},
		{"198.51.100.17", nil, func(t *testing.T, res *Result, err error) {
			// named finds the loop itself and answers SERVFAIL; the
			// in-test server cases (TestLookupCNAMELoop) exercise ours.
			if !errors.Is(err, ErrNoCandidates) || !strings.Contains(err.Error(), "SERVFAIL") {
				t.Errorf("CNAME loop: err %v", err)
			}
		}},
		{"198.51.100.99", nil, func(t *testing.T, res *Result, err error) {
			if len(res.Candidates) != 100 {
				t.Errorf("big answer: %d candidates, %v", len(res.Candidates), err)
			}
			// It only fits over TCP.
			m := new(dns.Msg)
			m.SetQuestion("99.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
			m.SetEdns0(ednsSize, false)
			if udp, _, err := amtrelayrr.Exchange(context.Background(), &dns.Client{Net: "udp"}, m, addr); err != nil || !udp.Truncated {
				t.Errorf("the UDP answer is not truncated: %v", err)
			}
		}},
	} {
		t.Run(tc.source, func(t *testing.T) {
			res, err := lookup(t, r, netip.MustParseAddr(tc.source))
			if tc.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := addrsOfCands(res.Candidates); !slices.Equal(got, tc.want) {
					t.Errorf("order %v, want %v", got, tc.want)
				}
			}
			if tc.check != nil {
				tc.check(t, res, err)
			}
			for _, c := range res.Candidates {
				t.Logf("%-22s %-6s prec=%-3d D=%v  %s", label(c), c.Tier, c.Precedence, c.DiscoveryOptional, c.Reason)
			}
		})
	}
}
