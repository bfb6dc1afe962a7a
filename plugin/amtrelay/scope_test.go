package amtrelay

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

func TestMergeNetworks(t *testing.T) {
	p := netip.MustParsePrefix
	nets := []dbNetwork{
		{p("10.0.0.0/25"), 0}, {p("10.0.0.128/25"), 0}, // → 10.0.0.0/24
		{p("10.0.1.0/24"), 1},                        //                        → with it, 10.0.0.0/23
		{p("10.0.2.0/24"), 2}, {p("10.0.3.0/25"), 2}, // 10.0.3.128/25 missing: no merge
		{p("10.0.4.0/24"), 3}, {p("10.0.5.0/24"), 4}, // different rankings
		{p("10.0.6.0/24"), -1}, {p("10.0.7.0/24"), -1}, // no location
		{p("2001:db8::/49"), 5}, {p("2001:db8:0:8000::/49"), 5}, // → 2001:db8::/48
	}
	// Locations 0 and 1 rank alike, as do 5; the rest differ.
	rankings := []int32{7, 7, 8, 9, 10, 11}
	got := mergeNetworks(nets, rankings).wide
	want := []netip.Prefix{p("10.0.0.0/23"), p("2001:db8::/48")}
	if !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	tab := &scopeTable{wide: got}
	for _, tc := range []struct{ network, want string }{
		{"10.0.0.128/25", "10.0.0.0/23"},
		{"10.0.1.0/24", "10.0.0.0/23"},
		{"10.0.2.0/24", "10.0.2.0/24"},
		{"10.0.6.0/24", "10.0.6.0/24"},
		{"2001:db8:0:8000::/49", "2001:db8::/48"},
		{"9.255.255.0/24", "9.255.255.0/24"},
	} {
		if got := tab.widen(location{network: p(tc.network)}); got != p(tc.want) {
			t.Errorf("widen(%s) = %s, want %s", tc.network, got, tc.want)
		}
	}
	// A client placed by another database than the table's (a GeoIP
	// reload in progress) keeps its own network.
	tab.db = &geoReader{}
	if got := tab.widen(location{network: p("10.0.1.0/24")}); got != p("10.0.1.0/24") {
		t.Errorf("widen with another database = %s", got)
	}
}

// TestECSScopeHoldsAcrossIt: the scope of a closest answer is often wider
// than the client's GeoIP network, and every address across it gets the
// same answer (RFC 7871 §7.2.1: never wider than what decided the answer).
// With a relay of the answer down, the scope is the client's network.
func TestECSScopeHoldsAcrossIt(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	// 4,000 /24s in 10.0.0.0/12, in runs of neighbours around 64 cities,
	// each network at its own spot near its city; a few gaps.
	var places []geotest.Place
	for i := range 4000 {
		if i%397 == 5 {
			continue
		}
		city := i / 64
		places = append(places, geotest.Place{
			Network: fmt.Sprintf("10.%d.%d.0/24", i>>8, i&255), City: "c", Country: "ZZ",
			Lat: float64(city%8)*20 - 70 + rng.Float64(), Lon: float64(city/8)*40 - 160 + rng.Float64(),
		})
	}
	var corefile strings.Builder
	corefile.WriteString("amtrelay {\n")
	for i := range 12 {
		fmt.Fprintf(&corefile, "relay r%d 192.0.2.%d {\nlocation %.3f %.3f\n}\n", i, i+1, rng.Float64()*140-70, rng.Float64()*360-180)
	}
	corefile.WriteString("source 198.51.100.0/24\npolicy closest\nanswer 3\ngeoip GEOIP\n}")
	a := startedHandler(t, corefile.String(), places)

	answer := func(client netip.Addr) ([]string, uint8) {
		r := ask(t, a, "198.51.100.12", "127.0.0.1", netip.PrefixFrom(client, 32).String())
		e := replyECS(r)
		if e == nil {
			t.Fatalf("no ECS in the answer for %s", client)
		}
		return order(t, r), e.SourceScope
	}
	widened := 0
	for range 150 {
		client := netip.AddrFrom4([4]byte{10, byte(rng.IntN(16)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		want, scope := answer(client)
		if scope == 0 {
			continue // not in the database: the failover order, for everyone
		}
		if scope < 24 {
			widened++
		}
		prefix := netip.PrefixFrom(client, int(scope)).Masked()
		last := lastAddr(prefix)
		for _, other := range []netip.Addr{prefix.Addr(), last, randomIn(rng, prefix), randomIn(rng, prefix), randomIn(rng, prefix)} {
			if got, _ := answer(other); !slices.Equal(got, want) {
				t.Fatalf("%s got %q with scope /%d, but %s in that scope gets %q", client, want, scope, other, got)
			}
		}
	}
	if widened < 20 {
		t.Errorf("only %d of 150 answers had a scope wider than the /24 network", widened)
	}

	// The first relay of a widened answer goes down: the answer changes,
	// and holds for the client's network only.
	client := netip.MustParseAddr("10.0.0.7")
	before, scope := answer(client)
	if scope >= 24 {
		t.Fatalf("%s: scope /%d, want wider than /24 (its run of 64 networks ranks alike)", client, scope)
	}
	for _, r := range a.relays {
		if "0 "+r.record.Addr.String() == before[0] {
			r.down.Store(true)
		}
	}
	if after, scope := answer(client); scope != 24 || slices.Equal(after, before) {
		t.Errorf("with %s down: %q, scope /%d; want another answer with scope /24", before[0], after, scope)
	}
}

// randomIn is a random address of p.
func randomIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		if rng.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	return netip.AddrFrom4(a)
}
