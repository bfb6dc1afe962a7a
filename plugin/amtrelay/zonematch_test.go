package amtrelay

import (
	"testing"

	"github.com/coredns/coredns/plugin"

	"github.com/miekg/dns"
)

// TestMatchZoneAgreesWithCoreDNS checks matchZone against
// plugin.Zones.Matches.
func TestMatchZoneAgreesWithCoreDNS(t *testing.T) {
	zones := []string{"100.51.198.in-addr.arpa.", "51.198.in-addr.arpa.", "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", "ip6.arpa."}
	for _, name := range []string{
		"12.100.51.198.in-addr.arpa.", "100.51.198.in-addr.arpa.", "5.101.51.198.in-addr.arpa.", "51.198.in-addr.arpa.",
		"x100.51.198.in-addr.arpa.", "198.in-addr.arpa.", "example.org.", "ip6.arpa.", "1.ip6.arpa.", "a.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", ".",
	} {
		if got, want := matchZone(zones, name), plugin.Zones(zones).Matches(name); got != want {
			t.Errorf("matchZone(%q) = %q, plugin.Zones.Matches says %q", name, got, want)
		}
	}
	if matchZone([]string{"."}, "example.org.") != "." {
		t.Error("root zone does not match")
	}
}

// TestInZoneByLabels: a dot inside a label is no label boundary; names are
// compared as miekg/dns compares them, label by label.
func TestInZoneByLabels(t *testing.T) {
	zone := "100.51.198.in-addr.arpa."
	for _, name := range []string{
		"12.100.51.198.in-addr.arpa.",
		`12\.100.51.198.in-addr.arpa.`,  // one label "12.100": in 51.198, not 100.51.198
		`12\\.100.51.198.in-addr.arpa.`, // a label ending in a backslash, then 100
		`12\\\.100.51.198.in-addr.arpa.`,
		`a\.b.12.100.51.198.in-addr.arpa.`,
		"100.51.198.in-addr.arpa.",
		"x100.51.198.in-addr.arpa.",
	} {
		if got, want := inZone(name, zone), dns.IsSubDomain(zone, name); got != want {
			t.Errorf("inZone(%q) = %v, miekg/dns says %v", name, got, want)
		}
	}
}
