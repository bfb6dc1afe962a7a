package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestNamedByteIdentical: BIND's named, serving the equivalent zone file,
// sends the very same RDATA octets as the plugin for every relay type and
// D-bit. (Stock CoreDNS's file plugin would not, for D=1: see the plugin
// README's Bugs.)
func TestNamedByteIdentical(t *testing.T) {
	var zone strings.Builder
	zone.WriteString("$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n")
	for _, tc := range allTypes {
		fmt.Fprintf(&zone, "%s AMTRELAY %s\n", strings.Split(tc.source, ".")[3], tc.relay)
	}
	bind := testenv.StartNamed(t, map[string]string{"100.51.198.in-addr.arpa.": zone.String()})
	udp, tcp := startCoreDNS(t, allTypesCorefile)

	for _, tc := range allTypes {
		for _, network := range []string{"udp", "tcp"} {
			ours := udp
			if network == "tcp" {
				ours = tcp
			}
			m := new(dns.Msg).SetQuestion(reverse(t, tc.source), dns.TypeAMTRELAY)
			want := rdataHex(t, query(t, network, bind, m))
			got := rdataHex(t, query(t, network, ours, m))
			if len(want) != 1 || len(got) != 1 || got[0] != want[0] {
				t.Errorf("%s over %s: plugin RDATA %v, named %v", tc.relay, network, got, want)
			}
		}
	}
}

// TestAnswerSizeAgainstBIND pins where CoreDNS stands on name
// compression. BIND compresses the owner names of the static example's
// three relays (129 octets without EDNS). The plugin asks for compression
// too, but CoreDNS's server turns it off for every reply that fits the
// client's buffer (request.Scrub calls miekg/dns Truncate, which clears
// Msg.Compress then), so the reply is 207 octets; it compresses only
// replies that would not fit. The type-3 relay name in AMTRELAY RDATA is
// never compressed either way (RFC 8777 §4.2.3). When this test fails,
// CoreDNS compresses small replies: update the plugin README's Bugs.
func TestAnswerSizeAgainstBIND(t *testing.T) {
	zone := "$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n"
	for _, r := range rfc8777Relays {
		zone += "12 AMTRELAY " + r + "\n"
	}
	bind := testenv.StartNamed(t, map[string]string{"100.51.198.in-addr.arpa.": zone})
	ours, _ := startCoreDNS(t, exampleCorefile(t, "static.corefile"))
	q, err := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY).Pack()
	if err != nil {
		t.Fatal(err)
	}
	theirs, mine := rawReply(t, bind, q), rawReply(t, ours, q)
	t.Logf("plugin %d octets, named %d", len(mine), len(theirs))
	if len(theirs) != 129 || len(mine) != 207 {
		t.Errorf("plugin %d octets (want 207, uncompressed), named %d (want 129)", len(mine), len(theirs))
	}
}

// rdataHex returns the RDATA of each AMTRELAY answer as hex, exactly as
// received (amtrelayrr.UnpackMsg keeps type 260 RDATA opaque).
func rdataHex(t testing.TB, r *dns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range r.Answer {
		if u, ok := rr.(*dns.RFC3597); ok && u.Hdr.Rrtype == dns.TypeAMTRELAY {
			out = append(out, u.Rdata)
		}
	}
	return out
}

// TestStockFileD1Broken pins what the plugin README's Bugs section says:
// stock CoreDNS's file plugin serves "10 1 1 203.0.113.15" without its
// relay field. When this fails, miekg/dns is fixed and the README must say
// so.
func TestStockFileD1Broken(t *testing.T) {
	dir := t.TempDir()
	zone := "$TTL 30\n@ SOA ns. hostmaster. 1 7200 1800 1209600 30\n@ NS ns.\n2 AMTRELAY 10 1 1 203.0.113.15\n"
	path := dir + "/db"
	if err := writeFile(path, zone); err != nil {
		t.Fatal(err)
	}
	udp, _ := startCoreDNS(t, ".:0 {\n bind 127.0.0.1\n file "+path+" 100.51.198.in-addr.arpa\n}\n")
	got := rdataHex(t, query(t, "udp", udp, new(dns.Msg).SetQuestion("2.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	if len(got) != 1 || got[0] != "0a81" {
		t.Errorf("stock file plugin now sends %v for 10 1 1 203.0.113.15 (was the broken 0a81): update the README", got)
	}
}
