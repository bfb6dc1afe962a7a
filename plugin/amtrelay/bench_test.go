package amtrelay

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

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
				a.writesBytes = true // as in a server block of this plugin, metrics and errors
				w := newCaptureWriter("127.0.0.1", false)
				// Warm up as a running server would be: a metric series
				// made for every relay that comes first (round-robin and
				// weighted reach them all).
				for j := range len(queries) + 3*n {
					a.ServeDNS(b.Context(), w, queries[j%len(queries)])
				}
				b.ReportAllocs()
				b.ResetTimer()
				benchLoop(b, a, queries, nil, false)
			})
		}
	}
}

// benchLoop is the measured part of the benchmarks, in a function of its
// own so that test/bench/instructions.sh and misses.sh can count its
// instructions and cache misses alone. With clients, it sends queries[0]
// every time with the next client's address written into its ECS option,
// as a server answers a query it has just unpacked: the query is in the
// cache, the client's data is not. afterSyscall makes a system call
// before each query, as a server's query follows its recvmsg: on a
// machine whose system calls empty the TLB (PTI without PCID, as on the
// development VM), the query's first read of each page is then a page
// walk.
//
//go:noinline
func benchLoop(b *testing.B, a *AMTRelay, queries []*dns.Msg, clients [][4]byte, afterSyscall bool) {
	w := newCaptureWriter("127.0.0.1", false)
	var ecs *dns.EDNS0_SUBNET
	if clients != nil {
		ecs = queries[0].IsEdns0().Option[0].(*dns.EDNS0_SUBNET)
	}
	i := 0
	for b.Loop() {
		w.wire, w.msg = w.wire[:0], nil
		q := queries[i%len(queries)]
		if clients != nil {
			q = queries[0]
			copy(ecs.Address, clients[i%len(clients)][:])
		}
		if afterSyscall {
			syscall.Getppid()
		}
		if _, err := a.ServeDNS(b.Context(), w, q); err != nil || (len(w.wire) == 0 && (w.msg == nil || len(w.msg.Answer) == 0)) {
			b.Fatalf("no answer: %v", err)
		}
		i++
	}
}

// BenchmarkServeDNSManySubnets is closest at 10 and 10,000 relays with
// ECS from 100,000 client /24s over 50,000 locations, each query from the
// next subnet in a shuffled order: what an AMT DNS sees from many
// resolvers (subnets=many), or always from the first (subnets=one).
// Answers go out as bytes (as in a server block with metrics and errors)
// or, for comparison, as a dns.Msg (as with log, cache or dnssec before
// this plugin). bytes-after-syscall makes a system call before each
// query, as the server's recvmsg does (benchLoop): its time less
// bytes' is what one costs the query after it, beyond its own.
func BenchmarkServeDNSManySubnets(b *testing.B) {
	const subnets, locations = 100000, 50000
	rng := rand.New(rand.NewPCG(11, 11))
	spots := make([][2]float64, locations)
	for i := range spots {
		spots[i] = [2]float64{rng.Float64()*140 - 70, rng.Float64()*360 - 180}
	}
	places := make([]geotest.Place, subnets)
	clients := make([][4]byte, subnets)
	for i := range places {
		net := netip.AddrFrom4([4]byte{10 + byte(i>>16), byte(i >> 8), byte(i), 0})
		s := spots[i%locations]
		places[i] = geotest.Place{Network: net.String() + "/24", City: "c", Country: "ZZ", Lat: s[0], Lon: s[1]}
		clients[i] = net.As4()
	}
	geo := writeGeo(b, places)
	rng.Shuffle(len(clients), func(i, j int) { clients[i], clients[j] = clients[j], clients[i] })
	query := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	query.SetEdns0(1232, false)
	ecs := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: make([]byte, 4)}
	query.IsEdns0().Option = []dns.EDNS0{ecs}
	for _, n := range []int{10, 10000} {
		for _, subnets := range []string{"many", "one"} {
			cs := clients
			if subnets == "one" {
				cs = clients[:1]
			}
			for _, write := range []string{"bytes", "msg", "bytes-after-syscall"} {
				if subnets == "one" && write == "msg" {
					continue
				}
				b.Run(fmt.Sprintf("relays=%d/subnets=%s/write=%s", n, subnets, write), func(b *testing.B) {
					a := startedHandler(b, strings.ReplaceAll(benchCorefile("closest", n), "GEOIP", geo), nil)
					a.writesBytes = write != "msg"
					// Warm: a metric series for every relay that comes first.
					w := newCaptureWriter("127.0.0.1", false)
					for _, c := range clients {
						copy(ecs.Address, c[:])
						a.ServeDNS(b.Context(), w, query)
					}
					b.ReportAllocs()
					b.ResetTimer()
					benchLoop(b, a, []*dns.Msg{query}, cs, write == "bytes-after-syscall")
				})
			}
		}
	}
}
