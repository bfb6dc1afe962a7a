package amtrelay

import (
	"errors"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// staticCorefile mirrors corefile-examples/static.corefile.
const staticCorefile = `amtrelay {
	relay v4   10 0 1 203.0.113.15
	relay v6   10 0 2 2001:db8::15
	relay name 128 1 3 amtrelays.example.com.
	relay ipv6 0 1 2 2001:db8:100::2268
	source 198.51.100.0/24 v4 v6 name
	source 203.0.113.128/25 none
	source 2001:db8:100::/48 ipv6
	ns amt-dns.example.net.
	ttl 60
}`

const (
	soa4  = "100.51.198.in-addr.arpa. 60 IN SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 0 7200 1800 1209600 60"
	soa25 = "113.0.203.in-addr.arpa. 60 IN SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 0 7200 1800 1209600 60"
	soa6  = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 0 7200 1800 1209600 60"
	v6src = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."
)

// TestLookup covers the zone behaviour recursive resolvers depend on.
func TestLookup(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	for _, tc := range []struct {
		test.Case
		relays []string // expected AMTRELAY answers, decoded
	}{
		{Case: test.Case{Qname: "12.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY},
			relays: []string{"10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com."}},
		{Case: test.Case{Qname: "255.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY},
			relays: []string{"10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com."}},
		{Case: test.Case{Qname: "12.100.51.198.IN-ADDR.ARPA.", Qtype: dns.TypeAMTRELAY},
			relays: []string{"10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com."}},
		{Case: test.Case{Qname: v6src, Qtype: dns.TypeAMTRELAY}, relays: []string{"0 1 2 2001:db8:100::2268"}},
		// "no relay" inside the /25, NXDOMAIN just outside it in the same zone.
		{Case: test.Case{Qname: "130.113.0.203.in-addr.arpa.", Qtype: dns.TypeAMTRELAY}, relays: []string{"0 0 0 ."}},
		{Case: test.Case{Qname: "128.113.0.203.in-addr.arpa.", Qtype: dns.TypeAMTRELAY}, relays: []string{"0 0 0 ."}},
		{Case: test.Case{Qname: "127.113.0.203.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError,
			Ns: []dns.RR{test.SOA(soa25)}}},
		// NODATA for other types at existing names.
		{Case: test.Case{Qname: "12.100.51.198.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "12.100.51.198.in-addr.arpa.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa4)}}},
		// Apex: SOA and NS, and NODATA for AMTRELAY.
		{Case: test.Case{Qname: "100.51.198.in-addr.arpa.", Qtype: dns.TypeSOA, Answer: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "100.51.198.in-addr.arpa.", Qtype: dns.TypeNS,
			Answer: []dns.RR{test.NS("100.51.198.in-addr.arpa. 60 IN NS amt-dns.example.net.")}}},
		{Case: test.Case{Qname: "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", Qtype: dns.TypeNS,
			Answer: []dns.RR{test.NS("0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN NS amt-dns.example.net.")}}},
		{Case: test.Case{Qname: "100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Ns: []dns.RR{test.SOA(soa4)}}},
		// Empty non-terminals inside the /48 zone are NODATA, never NXDOMAIN.
		{Case: test.Case{Qname: "0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa6)}}},
		{Case: test.Case{Qname: "0." + "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", Qtype: dns.TypeNS, Ns: []dns.RR{test.SOA(soa6)}}},
		// Names that cannot be addresses do not exist.
		{Case: test.Case{Qname: "012.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "256.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "x.12.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "1.12.100.51.198.in-addr.arpa.", Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "g." + v6src[2:], Qtype: dns.TypeAMTRELAY, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa6)}}},
		// Seed-style names: A and AAAA of the first rank.
		{Case: test.Case{Qname: "amt.12.100.51.198.in-addr.arpa.", Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("amt.12.100.51.198.in-addr.arpa. 60 IN A 203.0.113.15")}}},
		{Case: test.Case{Qname: "amt.12.100.51.198.in-addr.arpa.", Qtype: dns.TypeAAAA,
			Answer: []dns.RR{test.AAAA("amt.12.100.51.198.in-addr.arpa. 60 IN AAAA 2001:db8::15")}}},
		{Case: test.Case{Qname: "amt.12.100.51.198.in-addr.arpa.", Qtype: dns.TypeTXT, Ns: []dns.RR{test.SOA(soa4)}}},
		{Case: test.Case{Qname: "amt." + v6src, Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa6)}}},
		{Case: test.Case{Qname: "amt." + v6src, Qtype: dns.TypeAAAA,
			Answer: []dns.RR{test.AAAA("amt." + v6src + " 60 IN AAAA 2001:db8:100::2268")}}},
		{Case: test.Case{Qname: "amt.130.113.0.203.in-addr.arpa.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa25)}}},
		{Case: test.Case{Qname: "amt.1.113.0.203.in-addr.arpa.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa25)}}},
		{Case: test.Case{Qname: "amt.100.51.198.in-addr.arpa.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa4)}}},
	} {
		t.Run(dns.TypeToString[tc.Qtype]+" "+tc.Qname, func(t *testing.T) {
			resp, rcode, err := serve(t, a, tc.Msg())
			if err != nil || rcode != dns.RcodeSuccess {
				t.Fatalf("ServeDNS = %d, %v", rcode, err)
			}
			if !resp.Authoritative {
				t.Error("AA not set")
			}
			if tc.relays != nil {
				if got := relays(t, resp.Answer); !sameSet(got, tc.relays) {
					t.Errorf("AMTRELAY answers %q, want %q", got, tc.relays)
				}
				if resp.Rcode != tc.Rcode || len(resp.Ns) != 0 {
					t.Errorf("rcode %d, authority %v", resp.Rcode, resp.Ns)
				}
				return
			}
			for _, rr := range resp.Ns {
				if soa, ok := rr.(*dns.SOA); ok {
					soa.Serial = 0
				}
			}
			if err := test.SortAndCheck(resp, tc.Case); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestOutsideZonesPassedOn(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	for _, name := range []string{"example.org.", "51.198.in-addr.arpa.", "12.100.51.199.in-addr.arpa.", "in-addr.arpa."} {
		_, _, err := serve(t, a, new(dns.Msg).SetQuestion(name, dns.TypeAMTRELAY))
		if !errors.Is(err, errPassedOn) {
			t.Errorf("%s: not passed on (err %v)", name, err)
		}
	}
	a.Next = nil
	if _, rcode, _ := serve(t, a, new(dns.Msg).SetQuestion("example.org.", dns.TypeA)); rcode != dns.RcodeRefused {
		t.Errorf("no next plugin: rcode %d, want REFUSED", rcode)
	}
}

func TestFallthrough(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay r 192.0.2.1
		source 198.51.100.0/25 r
		fallthrough
	}`)
	if _, _, err := serve(t, a, new(dns.Msg).SetQuestion("200.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)); !errors.Is(err, errPassedOn) {
		t.Errorf("NXDOMAIN name not passed on: %v", err)
	}
	resp, _, err := serve(t, a, new(dns.Msg).SetQuestion("100.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))
	if err != nil || len(resp.Answer) != 1 {
		t.Errorf("existing name: %v, %v", resp, err)
	}
}

func TestBadQueries(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	q := func() *dns.Msg { return new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY) }
	for _, tc := range []struct {
		name  string
		msg   func() *dns.Msg
		rcode int
	}{
		{"no question", func() *dns.Msg { m := q(); m.Question = nil; return m }, dns.RcodeFormatError},
		{"two questions", func() *dns.Msg { m := q(); m.Question = append(m.Question, m.Question[0]); return m }, dns.RcodeFormatError},
		{"class CH", func() *dns.Msg { m := q(); m.Question[0].Qclass = dns.ClassCHAOS; return m }, dns.RcodeRefused},
		{"class NONE", func() *dns.Msg { m := q(); m.Question[0].Qclass = dns.ClassNONE; return m }, dns.RcodeFormatError},
		{"class 0", func() *dns.Msg { m := q(); m.Question[0].Qclass = 0; return m }, dns.RcodeFormatError},
		{"class unassigned", func() *dns.Msg { m := q(); m.Question[0].Qclass = 0x1234; return m }, dns.RcodeNotImplemented},
		{"QTYPE OPT", func() *dns.Msg { return new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeOPT) }, dns.RcodeFormatError},
		{"OPT in the answer section", func() *dns.Msg { m := q(); m.SetEdns0(1232, false); m.Answer, m.Extra = m.Extra, nil; return m }, dns.RcodeFormatError},
		{"NOTIFY", func() *dns.Msg { m := q(); m.Opcode = dns.OpcodeNotify; return m }, dns.RcodeNotImplemented},
		{"UPDATE", func() *dns.Msg { m := q(); m.Opcode = dns.OpcodeUpdate; return m }, dns.RcodeNotImplemented},
		{"AXFR", func() *dns.Msg { return new(dns.Msg).SetQuestion("100.51.198.in-addr.arpa.", dns.TypeAXFR) }, dns.RcodeRefused},
		{"two OPT", func() *dns.Msg { m := q(); m.SetEdns0(1232, false); m.Extra = append(m.Extra, m.Extra[0]); return m }, dns.RcodeFormatError},
		{"OPT not at root", func() *dns.Msg { m := q(); m.SetEdns0(1232, false); m.Extra[0].Header().Name = "x."; return m }, dns.RcodeFormatError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rcode, err := serve(t, a, tc.msg())
			if rcode != tc.rcode || err != nil {
				t.Errorf("rcode %d, err %v; want %d", rcode, err, tc.rcode)
			}
		})
	}
	m := q()
	m.Question[0].Qclass = dns.ClassANY
	resp, rcode, err := serve(t, a, m)
	if rcode != dns.RcodeSuccess || err != nil || len(relays(t, resp.Answer)) != 3 {
		t.Errorf("class ANY: rcode %d, err %v, answer %v", rcode, err, resp)
	}
}
