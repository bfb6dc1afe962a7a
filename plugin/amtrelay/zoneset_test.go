package amtrelay

import (
	"fmt"
	"strings"
	"testing"
)

// TestZoneSetMatchesScan: the set finds the zone the scan finds, escaped
// dots included, for short and long lists.
func TestZoneSetMatchesScan(t *testing.T) {
	zones := []string{"100.51.198.in-addr.arpa.", "51.198.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", `12\.100.51.198.in-addr.arpa.`}
	for i := range 20 {
		zones = append(zones, fmt.Sprintf("%d.10.in-addr.arpa.", i))
	}
	names := []string{
		"12.100.51.198.in-addr.arpa.", "100.51.198.in-addr.arpa.", "7.51.198.in-addr.arpa.", `x.12\.100.51.198.in-addr.arpa.`,
		"1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "5.3.10.in-addr.arpa.", "5.30.10.in-addr.arpa.", "example.org.", ".",
	}
	for _, n := range []int{3, len(zones)} {
		set := newZoneSet(zones[:n])
		for _, name := range names {
			if got, want := set.match(name), matchZone(zones[:n], name); got != want {
				t.Errorf("%d zones: match(%q) = %q, the scan says %q", n, name, got, want)
			}
		}
	}
}

// TestManyPrefixes: a server block for 100,000 /24 source prefixes (as
// many reverse zones) sets up and answers. Checking that prefixes are
// covered by zones was quadratic, and 5,000 prefixes took two minutes to
// start; this test would not end.
func TestManyPrefixes(t *testing.T) {
	var b strings.Builder
	b.WriteString("amtrelay {\nrelay a 192.0.2.1\nrelay b 192.0.2.2\nsource 10.0.0.0/8 b\n")
	for i := range 100000 {
		fmt.Fprintf(&b, "source %d.%d.%d.0/24 a\n", 11+i>>16, (i>>8)&255, i&255)
	}
	b.WriteString("}\n")
	a := newTestHandler(t, b.String())
	if len(a.Zones) != 100001 {
		t.Fatalf("%d zones, want 100,001", len(a.Zones))
	}
	for _, tc := range []struct{ source, want string }{{"12.134.159.7", "192.0.2.1"}, {"10.1.2.3", "192.0.2.2"}} {
		r := ask(t, a, tc.source, "127.0.0.1", "")
		if got := order(t, r); len(got) != 1 || !strings.HasSuffix(got[0], tc.want) || !r.Authoritative {
			t.Errorf("%s: %v", tc.source, r.Answer)
		}
	}
}
