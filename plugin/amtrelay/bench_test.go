package amtrelay

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// benchClients is how many client networks the benchmark cycles through:
// /24s of 10.0.0.0/8 placed around the world.
const benchClients = 1024

// benchGeo places the benchmark's client networks at pseudorandom spots.
func benchGeo() []geotest.Place {
	rng := rand.New(rand.NewPCG(7, 7))
	places := make([]geotest.Place, benchClients)
	for i := range places {
		places[i] = geotest.Place{
			Network: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256),
			City:    "c", Country: "ZZ",
			Lat: rng.Float64()*140 - 70, Lon: rng.Float64()*360 - 180,
		}
	}
	return places
}

// benchCorefile has n relays at pseudorandom places with random loads.
func benchCorefile(policy string, n int) string {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var b strings.Builder
	b.WriteString("amtrelay {\n")
	for i := range n {
		a := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		fmt.Fprintf(&b, "relay r%d %s {\nlocation %.4f %.4f\ncapacity 100\nload %d\nweight %d\n}\n",
			i, a, rng.Float64()*140-70, rng.Float64()*360-180, rng.IntN(100), 1+rng.IntN(5))
	}
	fmt.Fprintf(&b, "source 198.51.100.0/24\npolicy %s\nanswer 3\ngeoip GEOIP\n}\n", policy)
	return b.String()
}

// benchQueries are AMTRELAY queries with ECS from each client network.
func benchQueries() []*dns.Msg {
	qs := make([]*dns.Msg, benchClients)
	for i := range qs {
		m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
			Address: netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}).AsSlice()}}
		qs[i] = m
	}
	return qs
}

// BenchmarkServeDNS measures one AMTRELAY query through ServeDNS for each
// policy at 10 and 10,000 relays, with ECS from 1,024 client networks in
// turn (a GeoIP lookup on every query).
func BenchmarkServeDNS(b *testing.B) {
	places := benchGeo()
	queries := benchQueries()
	for _, policy := range []string{"static", "failover", "round-robin", "weighted", "closest", "least-load", "spill-over"} {
		for _, n := range []int{10, 10000} {
			b.Run(fmt.Sprintf("policy=%s/relays=%d", policy, n), func(b *testing.B) {
				a := startedHandler(b, benchCorefile(policy, n), places)
				w := &test.ResponseWriter{}
				// Warm up as a running server would be: the ranking cache
				// filled, and a metric series made for every relay that
				// comes first (round-robin and weighted reach them all).
				for j := range len(queries) + 3*n {
					a.ServeDNS(b.Context(), dnstest.NewRecorder(w), queries[j%len(queries)])
				}
				b.ReportAllocs()
				b.ResetTimer()
				benchLoop(b, a, queries)
			})
		}
	}
}

// benchLoop is the measured part of BenchmarkServeDNS, in a function of
// its own so that test/bench/instructions.sh can count its instructions
// alone.
//
//go:noinline
func benchLoop(b *testing.B, a *AMTRelay, queries []*dns.Msg) {
	w := &test.ResponseWriter{}
	i := 0
	for b.Loop() {
		rec := dnstest.NewRecorder(w)
		if _, err := a.ServeDNS(b.Context(), rec, queries[i%len(queries)]); err != nil || rec.Msg == nil || len(rec.Msg.Answer) == 0 {
			b.Fatalf("no answer: %v", err)
		}
		i++
	}
}

// BenchmarkClosestColdCache is the cost of a query whose client location
// is not in the ranking cache: one pass over the relays.
func BenchmarkClosestColdCache(b *testing.B) {
	places := benchGeo()
	queries := benchQueries()
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("relays=%d", n), func(b *testing.B) {
			a := startedHandler(b, benchCorefile("closest", n), places)
			w := &test.ResponseWriter{}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				a.sel.changed()
				a.ServeDNS(b.Context(), dnstest.NewRecorder(w), queries[i%len(queries)])
				i++
			}
		})
	}
}
