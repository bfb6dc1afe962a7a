package amtrelay

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func containsHex(b []byte, h string) bool { return strings.Contains(hex.EncodeToString(b), h) }

func TestParseReverse(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" for not ok
	}{
		{"12.100.51.198.in-addr.arpa.", "198.51.100.12/32"},
		{"100.51.198.in-addr.arpa.", "198.51.100.0/24"},
		{"in-addr.arpa.", "0.0.0.0/0"},
		{"0.0.0.0.in-addr.arpa.", "0.0.0.0/32"},
		{"a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "2001:db8::a/128"},
		{"0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", "2001:db8:100::/48"},
		{"1.0.0.2.ip6.arpa.", "2001::/16"},
		{"ip6.arpa.", "::/0"},
		{"1.12.100.51.198.in-addr.arpa.", ""},
		{"012.100.51.198.in-addr.arpa.", ""},
		{"256.in-addr.arpa.", ""},
		{"-1.in-addr.arpa.", ""},
		{"1xin-addr.arpa.", ""},
		{"..in-addr.arpa.", ""},
		{"10.in-addr.arpa.example.", ""},
		{"example.org.", ""},
		{"g.ip6.arpa.", ""},
		{"10.ip6.arpa.", ""},
		{"a.b.ip6.arpa.", "ba00::/8"},
		{strings.Repeat("0.", 33) + "ip6.arpa.", ""},
		{"xip6.arpa.", ""},
	} {
		p, ok := parseReverse(tc.name)
		got := ""
		if ok {
			got = p.String()
		}
		if got != tc.want {
			t.Errorf("parseReverse(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParseReverseMatchesMiekg checks parseReverse against dns.ReverseAddr
// for whole addresses.
func TestParseReverseMatchesMiekg(t *testing.T) {
	for _, s := range []string{"198.51.100.12", "0.0.0.0", "255.255.255.255", "2001:db8::15", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:100::2268"} {
		a := netip.MustParseAddr(s)
		name, err := dns.ReverseAddr(s)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := parseReverse(name)
		if !ok || p.Addr() != a || p.Bits() != a.BitLen() {
			t.Errorf("parseReverse(%s) = %v, %v; want %v", name, p, ok, a)
		}
	}
}

func TestCoveringZone(t *testing.T) {
	for _, tc := range []struct{ prefix, zone string }{
		{"198.51.100.0/24", "100.51.198.in-addr.arpa."},
		{"203.0.113.128/25", "113.0.203.in-addr.arpa."},
		{"10.0.0.0/8", "10.in-addr.arpa."},
		{"10.0.0.0/7", "in-addr.arpa."},
		{"198.51.100.12/32", "12.100.51.198.in-addr.arpa."},
		{"2001:db8:100::/48", "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."},
		{"2001:db8:100::/46", "0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."},
	} {
		if got := coveringZone(netip.MustParsePrefix(tc.prefix)); got != tc.zone {
			t.Errorf("coveringZone(%s) = %s, want %s", tc.prefix, got, tc.zone)
		}
	}
}

func TestPrefixTable(t *testing.T) {
	tab := newPrefixTable()
	g24, g25, g48 := &group{}, &group{}, &group{}
	for p, g := range map[string]*group{"198.51.100.0/24": g24, "198.51.100.128/25": g25, "2001:db8:100::/48": g48} {
		if !tab.add(netip.MustParsePrefix(p), g) {
			t.Fatal(p)
		}
	}
	if tab.add(netip.MustParsePrefix("198.51.100.0/24"), g24) {
		t.Error("duplicate accepted")
	}
	for addr, want := range map[string]*group{
		"198.51.100.1": g24, "198.51.100.200": g25, "198.51.101.1": nil, "2001:db8:100:ffff::1": g48, "2001:db8:101::1": nil,
	} {
		if got, _ := tab.lookup(netip.MustParseAddr(addr)); got != want {
			t.Errorf("lookup(%s) = %p, want %p", addr, got, want)
		}
	}
	for p, want := range map[string]bool{
		"198.0.0.0/8": true, "198.51.0.0/16": true, "198.51.100.0/24": true, "198.51.101.0/24": false, "199.0.0.0/8": false,
		"0.0.0.0/0": true, "2001:db8:100::/44": true, "2001:db8:100::/52": true, "2001:db8:200::/44": false,
	} {
		if got := tab.exists(netip.MustParsePrefix(p)); got != want {
			t.Errorf("exists(%s) = %v, want %v", p, got, want)
		}
	}
}
