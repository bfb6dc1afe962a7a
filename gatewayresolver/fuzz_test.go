package gatewayresolver

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// FuzzReply feeds arbitrary DNS replies through what Lookup does with one:
// unpacking, chain following, AMTRELAY decoding and address extraction.
// None may panic, and nothing off the chain may be returned.
func FuzzReply(f *testing.F) {
	q := "12.100.51.198.in-addr.arpa."
	for _, lines := range [][]string{
		rfc8777Zone,
		{q + " 60 IN CNAME a.example.", "a.example. 60 IN CNAME " + q},
		{"100.51.198.in-addr.arpa. 60 IN DNAME x.example.", "12.x.example. 60 IN AMTRELAY 10 1 1 203.0.113.1"},
		{q + " 60 IN SRV 0 0 2268 r.example.", "r.example. 60 IN A 203.0.113.1"},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q, dns.TypeAMTRELAY)
		for _, l := range lines {
			m.Answer = append(m.Answer, mustRR(f, l))
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := amtrelayrr.UnpackMsg(raw)
		if err != nil {
			return
		}
		for _, qtype := range []uint16{dns.TypeAMTRELAY, dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR} {
			c := chain{max: defaultMaxChain, seen: map[string]bool{canonical(q): true}}
			last, rrs, err := c.follow(m.Answer, q, qtype)
			if err != nil {
				continue
			}
			if len(c.names) > defaultMaxChain {
				t.Fatalf("chain of %d links", len(c.names))
			}
			for _, rr := range rrs {
				if !sameName(rr.Header().Name, last) || rr.Header().Rrtype != qtype {
					t.Fatalf("off-chain record %v (chain ends at %s)", rr, last)
				}
				_, _ = amtrelayrr.FromRR(rr)
			}
			for _, a := range addrsOf(rrs, qtype) {
				if !usableRelayAddr(a) {
					t.Fatalf("unusable address %v", a)
				}
			}
			_ = additionalAddrs(m.Extra, last)
		}
	})
}

// TestDNAMEAtRoot pins a crasher FuzzReply found: a DNAME owned by the
// root made the owner-suffix replacement index past the name's labels.
// Reply: "0000\x00\x01\x00\x02\x00\x00\x00\x00\x000000\x00\x00'000000\x00\v\x010\a0000000\x00\x0000000000\x00\x0200"
func TestDNAMEAtRoot(t *testing.T) {
	c := chain{max: defaultMaxChain, seen: map[string]bool{}}
	rrs := []dns.RR{mustRR(t, ". 60 IN DNAME x.example."), mustRR(t, "a.b.x.example. 60 IN AMTRELAY 1 0 1 203.0.113.1")}
	last, got, err := c.follow(rrs, "a.b.", dns.TypeAMTRELAY)
	if err != nil || last != "a.b.x.example." || len(got) != 1 {
		t.Errorf("follow = %q, %v, %v", last, got, err)
	}
}
