package amtrelay

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// randomPlaces are networks of every length in a few IPv4 and IPv6
// ranges, some overlapping (the later one wins, as mmdbwriter inserts
// them), some without coordinates, with gaps between. longest6 bounds the
// IPv6 networks' length.
func randomPlaces(rng *rand.Rand, n, longest6 int) []geotest.Place {
	var places []geotest.Place
	for i := range n {
		var p netip.Prefix
		if i%3 == 2 {
			b := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}
			if i%30 == 2 {
				b[0], b[1], b[2], b[3] = 0x24, 0x00, byte(rng.IntN(256)), byte(rng.IntN(256)) // outside 2001:db8::/32
			}
			p, _ = netip.AddrFrom16(b).Prefix(20 + rng.IntN(longest6-19))
		} else {
			first := []byte{10, 172, 192, 203, 1}[rng.IntN(5)]
			b := [4]byte{first, byte(rng.IntN(8)), byte(rng.IntN(256)), byte(rng.IntN(256))}
			p, _ = netip.AddrFrom4(b).Prefix(8 + rng.IntN(25))
		}
		places = append(places, geotest.Place{
			Network: p.String(), City: "c", Country: "ZZ",
			Lat: float64(rng.IntN(60)) - 30, Lon: float64(rng.IntN(120)) - 60,
			NoLocation: i%11 == 0,
		})
	}
	return places
}

// probeAddrs are addresses at, around and between the networks of nets,
// random ones, and addresses the tree reaches through its IPv4 aliases
// (IPv4-mapped, 6to4) or not at all.
func probeAddrs(rng *rand.Rand, nets []dbNetwork) []netip.Addr {
	var addrs []netip.Addr
	for _, n := range nets {
		first, last := n.prefix.Addr(), lastAddr(n.prefix)
		addrs = append(addrs, first, last, first.Prev(), last.Next())
	}
	for range 5000 {
		addrs = append(addrs,
			netip.AddrFrom4([4]byte{[]byte{10, 172, 192, 203, 1, 11}[rng.IntN(6)], byte(rng.IntN(9)), byte(rng.IntN(256)), byte(rng.IntN(256))}),
			netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(5)), byte(rng.IntN(256)), 15: byte(rng.IntN(256))}),
			netip.AddrFrom16([16]byte{0x20, 0x02, 10, byte(rng.IntN(8)), byte(rng.IntN(256)), 1}),
			netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 10, 13: byte(rng.IntN(8)), 14: byte(rng.IntN(256)), 15: 1}),
		)
	}
	return addrs
}

// TestNetworkIndexAgreesWithTree: for every kind of address, the flat
// index finds what the database's search tree finds (network, location,
// place), or hands the address to the tree; in databases with IPv6
// networks up to /64 (indexed) and longer (left to the tree), and in an
// IPv4-only one.
func TestNetworkIndexAgreesWithTree(t *testing.T) {
	for _, tc := range []struct {
		name     string
		longest6 int
		producer geotest.Producer
		indexed6 bool
	}{
		{"ipv6 up to /64", 64, geotest.MaxMind, true},
		{"ipv6 up to /128", 128, geotest.DBIPLite, false},
		{"ipv4 only", 64, geotest.IPv4Only, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tc.longest6)))
			places := randomPlaces(rng, 3000, tc.longest6)
			if tc.producer.IPVersion == 4 {
				places = onlyIPv4(places)
			}
			path := filepath.Join(t.TempDir(), "city.mmdb")
			if err := geotest.WriteAs(path, places, tc.producer); err != nil {
				t.Fatal(err)
			}
			db, err := loadGeo(path)
			if err != nil {
				t.Fatal(err)
			}
			nets, pl := dbNetworks(db)
			if pl.networks == nil {
				t.Fatal("the database's networks were not indexed")
			}
			if pl.networks.usable6 != tc.indexed6 {
				t.Fatalf("IPv6 indexed: %v, want %v", pl.networks.usable6, tc.indexed6)
			}
			if split := pl.networks.v4.dense != nil; !split {
				t.Error("no IPv4 bucket was split: the test does not reach denseBucket")
			}
			if split := pl.networks.v6.dense != nil; tc.indexed6 && tc.producer.IPVersion != 4 && !split {
				t.Error("no IPv6 bucket was split: the test does not reach denseBucket")
			}
			db.places.Store(pl)
			inDatabase := map[netip.Prefix]bool{}
			for _, n := range nets {
				inDatabase[n.prefix] = true
			}
			for _, a := range probeAddrs(rng, nets) {
				if !a.IsValid() {
					continue
				}
				got, want := db.lookup(a), db.lookupTree(a, pl)
				if got.number > 0 && nets[got.number-1].prefix != got.network {
					t.Fatalf("%s: network number %d is %s, but the lookup says %s", a, got.number, nets[got.number-1].prefix, got.network)
				}
				// What the index can hold, it must find: else the tree's
				// cost comes back unseen.
				indexable := a.Is4() || (tc.indexed6 && !a.Is4In6())
				if got.number == 0 && indexable && inDatabase[want.network] {
					t.Fatalf("%s: in the database's network %s, but the index did not find it", a, want.network)
				}
				// The index leaves the point to be read when needed.
				if got.known && want.known && got.point() != want.point() {
					t.Fatalf("%s: index places it at %v, tree at %v", a, got.point(), want.point())
				}
				got.number, got.p, got.numbered, got.scopeBits, got.scopes = 0, want.p, want.numbered, 0, nil
				if got != want {
					t.Fatalf("%s: index says %+v, tree says %+v", a, got, want)
				}
			}
		})
	}
}

func onlyIPv4(places []geotest.Place) []geotest.Place {
	var v4 []geotest.Place
	for _, p := range places {
		if netip.MustParsePrefix(p.Network).Addr().Is4() {
			v4 = append(v4, p)
		}
	}
	return v4
}

// TestMergedBitsAgreeWithSearch: the merged prefix read by network number
// is the one the search over the merged prefixes finds.
func TestMergedBitsAgreeWithSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	var places []geotest.Place
	for i := range 3000 {
		// Runs of neighbours share a spot, so that many merge.
		spot := i / (1 + rng.IntN(40))
		places = append(places, geotest.Place{
			Network: fmt.Sprintf("10.%d.%d.0/24", i>>8, i&255), City: "c", Country: "ZZ",
			Lat: float64(spot%50) - 25, Lon: float64(spot%70) - 35,
		})
		if i%5 == 0 {
			places = append(places, geotest.Place{
				Network: fmt.Sprintf("2001:db8:%x::/48", i), City: "c", Country: "ZZ",
				Lat: float64(spot%50) - 25, Lon: float64(spot%70) - 35,
			})
		}
	}
	db, err := loadGeo(writeGeo(t, places))
	if err != nil {
		t.Fatal(err)
	}
	nets, pl := dbNetworks(db)
	rankings := make([]int32, len(pl.points))
	for i := range rankings {
		rankings[i] = int32(i % 7)
	}
	table := mergeNetworks(nets, rankings)
	table.db = db
	table.bits = mergedBits(nets, table.wide)
	pl.networks.holdScopes(table)
	db.places.Store(pl)
	other := &scopeTable{db: db, wide: table.wide, bits: table.bits}
	widened := 0
	for i, n := range nets {
		byNumber := table.widen(location{network: n.prefix, db: db, number: int32(i + 1)})
		bySearch := table.widen(location{network: n.prefix, db: db})
		if byNumber != bySearch {
			t.Fatalf("%s: widened to %s by number, %s by search", n.prefix, byNumber, bySearch)
		}
		// The lookup brings the length the index holds for its table;
		// another table reads its own.
		loc := db.lookup(n.prefix.Addr())
		if loc.scopes != table {
			t.Fatalf("%s: the lookup did not bring the index's scope length", n.prefix)
		}
		if byIndex, byOther := table.widen(loc), other.widen(loc); byIndex != bySearch || byOther != bySearch {
			t.Fatalf("%s: widened to %s by the index's length, %s by another table, %s by search", n.prefix, byIndex, byOther, bySearch)
		}
		if byNumber != n.prefix {
			widened++
		}
	}
	if widened == 0 {
		t.Fatal("no network was widened: the test shows nothing")
	}
}
