package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
)

// Sizes of the generated world. The City database holds every network;
// the queries' ECS subnets are drawn from them.
type Sizes struct {
	Locations int // distinct places
	Networks4 int // IPv4 /24 networks
	Networks6 int // IPv6 /48 networks
	Clients4  int // distinct IPv4 ECS subnets in the many-subnet query files (<= Networks4)
	Clients6  int // distinct IPv6 ECS subnets (<= Networks6)
	Relays    int // the largest relay count of any scenario
	Prefixes  int // the largest source prefix count of any scenario
}

// DefaultSizes are the issue's: at least 200,000 networks over 50,000
// locations, and at least 100,000 distinct client subnets.
var DefaultSizes = Sizes{
	Locations: 50_000,
	Networks4: 200_000,
	Networks6: 50_000,
	Clients4:  120_000,
	Clients6:  30_000,
	Relays:    10_000,
	Prefixes:  100_000,
}

// Point is a place on the globe, in degrees.
type Point struct{ Lat, Lon float64 }

// Network is one network of the City database and where it is.
type Network struct {
	Prefix netip.Prefix
	Loc    int // index into World.Locations
}

// Relay is one AMT relay of the scenarios: an address on its own /24 in
// 100.64.0.0/10 and a place.
type Relay struct {
	Name string
	Addr netip.Addr
	At   Point
}

// World is everything the inputs are made from, fixed by a seed: the same
// seed gives the same database, relays and queries.
type World struct {
	Locations []Point
	Networks  []Network // IPv4 first, then IPv6, each sorted
	Relays    []Relay
	// Clients are the ECS subnets of the many-subnet query files, in the
	// order the files use them: each once.
	Clients []netip.Prefix
	// ClientLoc maps each client subnet to its database location.
	ClientLoc map[netip.Prefix]int
	// Prefixes are the source prefixes of the many-prefix scenarios:
	// consecutive /26s from 10.0.0.0.
	Prefixes []netip.Prefix
}

// NewWorld makes the world for sizes from seed.
func NewWorld(sz Sizes, seed uint64) (*World, error) {
	if sz.Clients4 > sz.Networks4 || sz.Clients6 > sz.Networks6 {
		return nil, fmt.Errorf("more client subnets (%d IPv4, %d IPv6) than networks (%d, %d)", sz.Clients4, sz.Clients6, sz.Networks4, sz.Networks6)
	}
	if sz.Locations < 1 {
		return nil, fmt.Errorf("no locations")
	}
	if sz.Relays > 16384 {
		return nil, fmt.Errorf("%d relays: at most 16384 fit in 100.64.0.0/10, one /24 each", sz.Relays)
	}
	if sz.Prefixes > 1<<18 {
		return nil, fmt.Errorf("%d source prefixes: at most %d /26s fit in 10.0.0.0/8", sz.Prefixes, 1<<18)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	w := &World{ClientLoc: map[netip.Prefix]int{}}
	for range sz.Locations {
		w.Locations = append(w.Locations, randomPoint(rng))
	}
	// IPv4: distinct /24s in 1.0.0.0-99.255.255.0, leaving out 10/8 (the
	// source prefixes) and 100.64/10 (the relays).
	v4 := distinct(rng, sz.Networks4, func() uint32 {
		for {
			n := 1<<16 + rng.Uint32N(99<<16) // a /24 index in 1.0.0.0/24-99.255.255.0/24
			if n>>16 != 10 {
				return n
			}
		}
	})
	v6 := distinct(rng, sz.Networks6, func() uint32 { return rng.Uint32() })
	order := rng.Perm(len(w.Locations))
	runs := 0
	w.addRuns(rng, v4, order, &runs, func(n uint32) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 16), byte(n >> 8), byte(n), 0}), 24)
	})
	w.addRuns(rng, v6, order, &runs, func(n uint32) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x2a, 0x00, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), 48)
	})
	// Relays, each on its own /24 of 100.64.0.0/10, at random places.
	for i := range sz.Relays {
		w.Relays = append(w.Relays, Relay{
			Name: fmt.Sprintf("r%d", i),
			Addr: netip.AddrFrom4([4]byte{100, byte(64 + i/256), byte(i % 256), 1}),
			At:   randomPoint(rng),
		})
	}
	// Client subnets: a random choice of the networks, each once; IPv6
	// clients send a /56 inside their /48, as resolvers do.
	n4, n6 := sz.Networks4, sz.Networks6
	for _, i := range rng.Perm(n4)[:sz.Clients4] {
		w.Clients = append(w.Clients, w.Networks[i].Prefix)
		w.ClientLoc[w.Networks[i].Prefix] = w.Networks[i].Loc
	}
	for _, i := range rng.Perm(n6)[:sz.Clients6] {
		nw := w.Networks[n4+i]
		a := nw.Prefix.Addr().As16()
		a[6] = byte(rng.UintN(256))
		p := netip.PrefixFrom(netip.AddrFrom16(a), 56)
		w.Clients = append(w.Clients, p)
		w.ClientLoc[p] = nw.Loc
	}
	rng.Shuffle(len(w.Clients), func(i, j int) { w.Clients[i], w.Clients[j] = w.Clients[j], w.Clients[i] })
	for k := range sz.Prefixes {
		n := uint32(10<<24) + uint32(k)<<6
		w.Prefixes = append(w.Prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), 26))
	}
	return w, nil
}

// addRuns appends the sorted networks made from ids, giving runs of 1 to 7
// adjacent networks one location, as real databases place neighbouring
// networks together. The runs take the locations in the shuffled order,
// from *runs on, so that every location has networks.
func (w *World) addRuns(rng *rand.Rand, ids []uint32, order []int, runs *int, prefix func(uint32) netip.Prefix) {
	slices.Sort(ids)
	loc, left := 0, 0
	for _, id := range ids {
		if left == 0 {
			loc, left = order[*runs%len(order)], 1+rng.IntN(7)
			*runs++
		}
		w.Networks = append(w.Networks, Network{Prefix: prefix(id), Loc: loc})
		left--
	}
}

// distinct draws n distinct values from next.
func distinct(rng *rand.Rand, n int, next func() uint32) []uint32 {
	seen := make(map[uint32]bool, n)
	out := make([]uint32, 0, n)
	for len(out) < n {
		v := next()
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// randomPoint is uniform on the sphere, rounded to 4 decimals (about 10 m)
// so that every server reads the same coordinates from its configuration.
func randomPoint(rng *rand.Rand) Point {
	lat := math.Asin(2*rng.Float64()-1) * 180 / math.Pi
	lon := rng.Float64()*360 - 180
	return Point{Lat: round4(lat), Lon: round4(lon)}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// OneClient is the ECS subnet of the one-subnet query files: the first
// client.
func (w *World) OneClient() netip.Prefix { return w.Clients[0] }
