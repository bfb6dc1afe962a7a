package amtrelay

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fiveSites has relays in London, Paris, Frankfurt, Amsterdam and New York
// for spill-over and least-load tests. Clients in 203.0.113.0/26 are in
// London.
const fiveSites = `amtrelay {
	relay lon 192.0.2.1 {
		location 51.5074 -0.1278
		capacity 100
		LOAD_LON
	}
	relay par 192.0.2.2 {
		location 48.8566 2.3522
		capacity 100
		LOAD_PAR
	}
	relay fra 192.0.2.3 {
		location 50.1109 8.6821
		capacity 300
		LOAD_FRA
	}
	relay ams 192.0.2.4 {
		location 52.3676 4.9041
		capacity 100
		LOAD_AMS
	}
	relay nyc 192.0.2.5 {
		location 40.7128 -74.0060
		capacity 100
		LOAD_NYC
	}
	source 198.51.100.0/24
	POLICY
	answer 3
	geoip GEOIP
}`

func sites(policy string, loads map[string]string) string {
	s := strings.Replace(fiveSites, "POLICY", policy, 1)
	for _, site := range []string{"LON", "PAR", "FRA", "AMS", "NYC"} {
		v := ""
		if l, ok := loads[strings.ToLower(site)]; ok {
			v = "load " + l
		}
		s = strings.Replace(s, "LOAD_"+site, v, 1)
	}
	return s
}

func TestLeastLoad(t *testing.T) {
	// Utilisation: lon 0.50, par 0.20, fra 0.20 (60/300), ams 0.90, nyc unknown.
	a := startedHandler(t, sites("policy least-load", map[string]string{"lon": "50", "par": "20", "fra": "60", "ams": "90"}), geotest.Example)
	r := ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")
	// par and fra tie at 20%: Paris is nearer London. Then lon (50%).
	if got := order(t, r); !slices.Equal(got, []string{"0 192.0.2.2", "1 192.0.2.3", "2 192.0.2.1"}) {
		t.Errorf("least-load order %q", got)
	}
	// The tie was broken by distance: the answer depends on the client.
	if e := replyECS(r); e == nil || e.SourceScope != 26 {
		t.Errorf("ECS %v, want scope 26", e)
	}
	// From New York the tie breaks the other way round: Frankfurt is not
	// nearer, Paris still is (5837 vs 6204 km).
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.64/26")); got[0] != "0 192.0.2.2" {
		t.Errorf("from New York: %q", got)
	}
}

// TestLeastLoadUnknownFallsBackToDistance: with no load known, least-load
// is closest.
func TestLeastLoadUnknownFallsBackToDistance(t *testing.T) {
	a := startedHandler(t, sites("policy least-load", nil), geotest.Example)
	before := testutil.ToFloat64(fallbacks.WithLabelValues("", "least-load", "load_unknown"))
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.64/26")); !slices.Equal(got, []string{"0 192.0.2.5", "1 192.0.2.1", "2 192.0.2.2"}) {
		t.Errorf("from New York with no loads: %q", got)
	}
	if testutil.ToFloat64(fallbacks.WithLabelValues("", "least-load", "load_unknown")) != before+1 {
		t.Error("load_unknown fallback not counted")
	}
}

// spillCounts asks n times from London and counts the first relay.
func spillCounts(t *testing.T, a *AMTRelay, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26"))
		counts[strings.Fields(got[0])[1]]++
	}
	return counts
}

func TestSpillOverBelowLowMark(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9", map[string]string{"lon": "50"}), geotest.Example)
	if c := spillCounts(t, a, 200); c["192.0.2.1"] != 200 {
		t.Errorf("London at 50%% (under the low mark 60%%) should keep every client: %v", c)
	}
}

// TestSpillOverGradual: between the marks the shed share grows linearly:
// London at 75% between 60% and 90% sheds half its clients.
func TestSpillOverGradual(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9", map[string]string{"lon": "75"}), geotest.Example)
	c := spillCounts(t, a, 2000)
	if kept := float64(c["192.0.2.1"]) / 2000; math.Abs(kept-0.5) > 0.05 {
		t.Errorf("London kept %.2f of clients, want 0.5: %v", kept, c)
	}
}

// TestSpillOverSpreadsBySpareCapacity: London full, its clients go to the
// next three nearest (Paris, Amsterdam, Frankfurt; spread 3) by spare
// capacity, not all to Paris. Frankfurt has three times the capacity.
func TestSpillOverSpreadsBySpareCapacity(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over 0.6 0.9 3", map[string]string{"lon": "95", "par": "0", "ams": "0", "fra": "0"}), geotest.Example)
	c := spillCounts(t, a, 5000)
	if c["192.0.2.1"] != 0 {
		t.Errorf("London over the high mark still got %d clients", c["192.0.2.1"])
	}
	// Spare: par 90, ams 90, fra 270: shares 0.2, 0.2, 0.6.
	for relay, want := range map[string]float64{"192.0.2.2": 0.2, "192.0.2.4": 0.2, "192.0.2.3": 0.6} {
		if got := float64(c[relay]) / 5000; math.Abs(got-want) > 0.03 {
			t.Errorf("%s got %.3f of clients, want %.2f: %v", relay, got, want, c)
		}
	}
	if c["192.0.2.5"] != 0 {
		t.Errorf("New York, outside the spread, got %d", c["192.0.2.5"])
	}
}

// TestSpillOverSiteDown: when the nearest relay is down its clients spread
// the same way.
func TestSpillOverSiteDown(t *testing.T) {
	a := startedHandler(t, sites("policy spill-over", nil), geotest.Example)
	a.relays[0].down.Store(true)
	a.sel.changed()
	c := spillCounts(t, a, 3000)
	if c["192.0.2.1"] != 0 {
		t.Error("a down relay was handed out")
	}
	for _, relay := range []string{"192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		if c[relay] < 300 {
			t.Errorf("%s got only %d of 3000: clients did not spread: %v", relay, c[relay], c)
		}
	}
}

func TestWeighted(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay a 192.0.2.1 {
			weight 1
		}
		relay b 192.0.2.2 {
			weight 3
		}
		relay c 192.0.2.3 {
			weight 0
		}
		source 198.51.100.0/24
		policy weighted
	}`, nil)
	counts := map[string]int{}
	for range 4000 {
		got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", ""))
		if len(got) != 2 || slices.Contains(got, "2 192.0.2.3") {
			t.Fatalf("answer %q: weight 0 must never be answered, others once each", got)
		}
		counts[got[0]]++
	}
	if share := float64(counts["0 192.0.2.2"]) / 4000; math.Abs(share-0.75) > 0.03 {
		t.Errorf("b (weight 3 of 4) first in %.3f of answers, want 0.75", share)
	}
}

func TestRoundRobinAndFailover(t *testing.T) {
	rr := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy round-robin
		answer 2
	}`, nil)
	var firsts []string
	for range 4 {
		firsts = append(firsts, order(t, ask(t, rr, "198.51.100.1", "127.0.0.1", ""))[0])
	}
	if !slices.Equal(firsts, []string{"0 192.0.2.1", "0 192.0.2.2", "0 192.0.2.3", "0 192.0.2.1"}) {
		t.Errorf("round-robin firsts %q", firsts)
	}
	fo := startedHandler(t, `amtrelay {
		relay a 192.0.2.1
		relay b 192.0.2.2 {
			drain
		}
		relay c 192.0.2.3
		source 198.51.100.0/24
		policy failover
	}`, nil)
	if got := order(t, ask(t, fo, "198.51.100.1", "127.0.0.1", "")); !slices.Equal(got, []string{"0 192.0.2.1", "1 192.0.2.3"}) {
		t.Errorf("failover with b drained: %q", got)
	}
}

// TestPerSourcePolicy: a source block overrides the block-wide policy.
func TestPerSourcePolicy(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay cam 192.0.2.1 {
			location 52.2053 0.1218
		}
		relay syd 192.0.2.3 {
			location -33.8688 151.2093
		}
		source 198.51.100.0/25
		source 198.51.100.128/25 {
			policy closest
		}
		policy failover
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.128/26")); got[0] != "0 192.0.2.1" {
		t.Errorf("failover source: %q", got)
	}
	if got := order(t, ask(t, a, "198.51.100.200", "127.0.0.1", "203.0.113.128/26")); got[0] != "0 192.0.2.3" {
		t.Errorf("closest source: %q", got)
	}
}

// TestTiesSharePrecedence: two relays at the same place share a
// precedence, so gateways choose between them at random.
func TestTiesSharePrecedence(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay a 192.0.2.1 {
			location 51.5 0
		}
		relay b 192.0.2.2 {
			location 51.5 0
		}
		relay c 192.0.2.3 {
			location 40 -74
		}
		source 198.51.100.0/24
		policy closest
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")); !slices.Equal(got, []string{"0 192.0.2.1", "0 192.0.2.2", "1 192.0.2.3"}) {
		t.Errorf("tied relays: %q", got)
	}
}

// TestGeoIPHotReload: a new database file is picked up; a corrupt one is
// logged and counted and the last good one keeps serving.
func TestGeoIPHotReload(t *testing.T) {
	path := writeGeo(t, geotest.Example)
	corefile := strings.Replace(closestCorefile, "geoip GEOIP", "geoip "+path+" {\n\t\treload 20ms\n\t}", 1)
	a := startedHandler(t, corefile, nil)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.1" {
		t.Fatalf("before reload: %q", got)
	}
	// Move the "London" network to Sydney.
	moved := slices.Clone(geotest.Example)
	moved[0].Lat, moved[0].Lon = -33.9, 151.2
	if err := geotest.Write(path, moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london))[0] == "0 192.0.2.3" })

	errorsBefore := testutil.ToFloat64(geoipReloads.WithLabelValues("error"))
	if err := os.WriteFile(path, []byte("this is not a MaxMind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(geoipReloads.WithLabelValues("error")) > errorsBefore })
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Errorf("after a corrupt file: %q, want the last good database's answer", got)
	}
	// A truncated copy of a real database is caught too.
	good, _ := os.ReadFile(writeGeo(t, geotest.Example))
	errorsBefore = testutil.ToFloat64(geoipReloads.WithLabelValues("error"))
	if err := os.WriteFile(path, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(geoipReloads.WithLabelValues("error")) > errorsBefore })
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Errorf("after a truncated file: %q", got)
	}
}

// waitFor waits, generously, until cond holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, "condition", cond)
}

// TestSeedFollowsFirstRank: amt.<reverse> A follows the policy's first
// rank.
func TestSeedFollowsFirstRank(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	m := new(dns.Msg).SetQuestion("amt.12.100.51.198.in-addr.arpa.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{ecsOpt(t, "203.0.113.128/26")}
	r := serveFrom(t, a, m, "127.0.0.1")
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.3" {
		t.Errorf("seed A from Melbourne: %v", r.Answer)
	}
	if e := replyECS(r); e == nil || e.SourceScope != 26 {
		t.Errorf("ECS %v", e)
	}
}
