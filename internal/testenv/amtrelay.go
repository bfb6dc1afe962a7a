package testenv

import (
	"strconv"
	"testing"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/miekg/dns"
)

// Relays decodes the AMTRELAY records among rrs, in order, to their
// presentation form ("10 0 1 203.0.113.15"), whichever way miekg/dns holds
// them. CoreDNS's test.SortAndCheck cannot compare AMTRELAY RDATA.
func Relays(t testing.TB, rrs []dns.RR) []string {
	t.Helper()
	var out []string
	for _, r := range decode(t, rrs) {
		out = append(out, r.String())
	}
	return out
}

// Ranked decodes the AMTRELAY records among rrs, in order, as "PRECEDENCE
// RELAY" ("0 192.0.2.1"): the order a policy gave, without the D-bit and
// type.
func Ranked(t testing.TB, rrs []dns.RR) []string {
	t.Helper()
	var out []string
	for _, r := range decode(t, rrs) {
		v := r.Addr.String()
		if r.Type == amtrelayrr.TypeName {
			v = r.Name
		}
		out = append(out, strconv.Itoa(int(r.Precedence))+" "+v)
	}
	return out
}

func decode(t testing.TB, rrs []dns.RR) []amtrelayrr.Relay {
	t.Helper()
	var out []amtrelayrr.Relay
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeAMTRELAY {
			continue
		}
		r, err := amtrelayrr.FromRR(rr)
		if err != nil {
			t.Fatalf("decoding %v: %v", rr, err)
		}
		out = append(out, r)
	}
	return out
}
