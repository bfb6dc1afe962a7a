package e2e

import "strings"

// The reverse zones of S1 (198.51.100.12) and of its IPv6 counterpart
// (2001:db8:100::12): Network 1's parent zones (a /16 and a /32), and the
// zones it delegates to the AMT DNS (a /24 and a /48).
const (
	net1Zone4 = "51.198.in-addr.arpa."
	s1Zone4   = "100.51.198.in-addr.arpa."
	net1Zone6 = "8.b.d.0.1.0.0.2.ip6.arpa."
	s1Zone6   = "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."
)

// zone makes zone-file text: $TTL, SOA and NS at origin, then records
// (relative to nothing: give full names).
func zone(origin, ns string, records ...string) string {
	var b strings.Builder
	b.WriteString("$TTL 300\n")
	b.WriteString(origin + " IN SOA " + ns + " hostmaster.example. 1 3600 600 86400 5\n")
	b.WriteString(origin + " IN NS " + ns + "\n")
	for _, r := range records {
		b.WriteString(r + "\n")
	}
	return b.String()
}

// rootZones are the root server's: the root, arpa., in-addr.arpa. and
// ip6.arpa., which delegate down to Network 1's authority, and example.,
// where the name servers' addresses and AD-2's DNS-SD records (RFC 6763,
// for RFC 8313 §3.5) are. No AMTRELAY data lives here. The negative TTL
// is short: scenarios flush Unbound, but a short TTL keeps a person's
// exploration with topology.sh honest too.
func rootZones() map[string]string {
	return map[string]string{
		".": zone(".", "rootns.",
			"rootns. IN A "+rootServer,
			"arpa. IN NS rootns.",
			"example. IN NS rootns."),
		"arpa.": zone("arpa.", "rootns.",
			"in-addr.arpa. IN NS rootns.",
			"ip6.arpa. IN NS rootns."),
		"in-addr.arpa.": zone("in-addr.arpa.", "rootns.",
			net1Zone4+" IN NS ns1.net1.example.",
			net1Zone4+" IN NS ns2.net1.example."),
		"ip6.arpa.": zone("ip6.arpa.", "rootns.",
			net1Zone6+" IN NS ns1.net1.example.",
			net1Zone6+" IN NS ns2.net1.example."),
		"example.": zone("example.", "rootns.",
			"ns1.net1.example. IN A "+net1NS1,
			"ns2.net1.example. IN A "+net1NS2,
			amtDNSName+" IN A "+anycastDNS,
			// RFC 8313 §3.5: AD-2's edge node AGAR2, for end users in
			// ad2.example (RFC 6763 §4.1 instance, §5 SRV, §6 TXT).
			"_amt._udp.ad2.example. IN PTR edge._amt._udp.ad2.example.",
			"edge._amt._udp.ad2.example. IN SRV 0 0 2268 agar2.ad2.example.",
			"edge._amt._udp.ad2.example. IN TXT \"\"",
			"agar2.ad2.example. IN A "+agar2,
			// ... and its peering node AGAR1, for AGAR2's gateway.
			"_amt._udp.peering.ad2.example. IN PTR peering._amt._udp.peering.ad2.example.",
			"peering._amt._udp.peering.ad2.example. IN SRV 0 0 2268 agar1.ad2.example.",
			"peering._amt._udp.peering.ad2.example. IN TXT \"\"",
			"agar1.ad2.example. IN A "+agar1),
	}
}

// net1Zones are Network 1's reverse zones: each delegates S1's prefix to
// the AMT DNS name, whose address is the anycast one (seeds step 2).
func net1Zones() map[string]string {
	ns := []string{net1Zone4 + " IN NS ns2.net1.example."}
	return map[string]string{
		net1Zone4: zone(net1Zone4, "ns1.net1.example.", append(ns,
			s1Zone4+" IN NS "+amtDNSName)...),
		net1Zone6: zone(net1Zone6, "ns1.net1.example.",
			net1Zone6+" IN NS ns2.net1.example.",
			s1Zone6+" IN NS "+amtDNSName),
	}
}

// rootHints is Unbound's root-hints file: the test's own root.
func rootHints() string {
	return ".\t3600000\tIN\tNS\trootns.\nrootns.\t3600000\tIN\tA\t" + rootServer + "\n"
}
