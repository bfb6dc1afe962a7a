package test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/amtrelay/amtrelay/internal/dnskeytest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestDNSSECExampleValidates: corefile-examples/dnssec.corefile, signed
// online by CoreDNS's dnssec plugin, validates in Unbound with the zone's
// key as trust anchor: AMTRELAY answers (with D=1 and a type-3 relay, as
// this project packs them), the seed-style amt. A answer, a NODATA proof,
// and the "black lies" NODATA the dnssec plugin sends in place of
// NXDOMAIN. Each gets AD; none is bogus (SERVFAIL).
func TestDNSSECExampleValidates(t *testing.T) {
	corefile := prepareCorefile(t, exampleCorefile(t, "dnssec.corefile"))
	base := regexp.MustCompile(`key file (\S+)`).FindStringSubmatch(corefile)[1]
	key, err := dnskeytest.Read(base)
	if err != nil {
		t.Fatal(err)
	}
	udp, _ := startCoreDNS(t, corefile)
	resolver := testenv.StartUnbound(t, map[string]string{"100.51.198.in-addr.arpa.": udp},
		`module-config: "validator iterator"`,
		`trust-anchor: "`+key.String()+`"`,
	)
	for _, tc := range []struct {
		name      string
		qname     string
		qtype     uint16
		answers   int
		nsecProof bool
	}{
		{"AMTRELAY", "12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY, 3, false},
		{"seed A", "amt.12.100.51.198.in-addr.arpa.", dns.TypeA, 1, false},
		{"NODATA", "12.100.51.198.in-addr.arpa.", dns.TypeTXT, 0, true},
		{"black lie for NXDOMAIN", "x.12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg).SetQuestion(tc.qname, tc.qtype)
			m.SetEdns0(1232, true)
			r := query(t, "udp", resolver, m)
			if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData {
				t.Fatalf("rcode %s AD %v, want NOERROR with AD (validated)\n%v", dns.RcodeToString[r.Rcode], r.AuthenticatedData, r)
			}
			got, sigs := 0, 0
			for _, rr := range r.Answer {
				switch rr.Header().Rrtype {
				case tc.qtype:
					got++
				case dns.TypeRRSIG:
					sigs++
				}
			}
			if got != tc.answers || (got > 0 && sigs == 0) {
				t.Errorf("%d answers and %d signatures, want %d signed", got, sigs, tc.answers)
			}
			if tc.nsecProof {
				nsec := false
				for _, rr := range r.Ns {
					nsec = nsec || rr.Header().Rrtype == dns.TypeNSEC
				}
				if !nsec {
					t.Errorf("no NSEC proof in the authority section: %v", r.Ns)
				}
			}
		})
	}
	// Unbound may rotate the RRset: compare as a set.
	got := relayStrings(t, query(t, "udp", resolver, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	slices.Sort(got)
	want := slices.Sorted(slices.Values(rfc8777Relays))
	if !slices.Equal(got, want) {
		t.Errorf("through the validating resolver: %q, want %q", got, want)
	}
}
