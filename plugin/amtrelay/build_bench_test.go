package amtrelay

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// BenchmarkBuildIndex is what a nearest-relay index costs to build, in
// time and memory (B/op), by number of relays: the work a GeoIP reload
// or a Corefile reload does off the query path.
func BenchmarkBuildIndex(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("relays=%d", n), func(b *testing.B) {
			relays := randomRelays(rand.New(rand.NewPCG(1, uint64(n))), n, 0)
			b.ReportAllocs()
			for b.Loop() {
				newNearIndex(relays)
			}
		})
	}
}

// cityNetworks makes a City database's networks as a commercial one lays
// them out: v4 /24s from 1.0.0.0 and v6 /48s from 2001:200::, in runs of
// 1 to 8 neighbours around one of locations cities, each network at a
// spot of its own within half a degree (a record of its own, as postal
// codes make them, so that no two networks share one).
func cityNetworks(v4, v6, locations int) []geotest.Place {
	rng := rand.New(rand.NewPCG(5, 5))
	spots := make([][2]float64, locations)
	for i := range spots {
		spots[i] = [2]float64{rng.Float64()*140 - 70, rng.Float64()*360 - 180}
	}
	places := make([]geotest.Place, 0, v4+v6)
	run, spot := 0, spots[0]
	add := func(network string) {
		if run == 0 {
			run, spot = 1+rng.IntN(8), spots[rng.IntN(len(spots))]
		}
		run--
		places = append(places, geotest.Place{Network: network, City: "c", Country: "ZZ",
			Lat: spot[0] + rng.Float64() - 0.5, Lon: spot[1] + rng.Float64() - 0.5})
	}
	for i := range v4 {
		add(netip.AddrFrom4([4]byte{1 + byte(i>>16), byte(i >> 8), byte(i), 0}).String() + "/24")
	}
	for i := range v6 {
		add(netip.AddrFrom16([16]byte{0x20, 0x01, 0x02 + byte(i>>24), byte(i >> 16), byte(i >> 8), byte(i)}).String() + "/48")
	}
	return places
}

// BenchmarkGeoLoaded is the work after a GeoIP database loads, at 10,000
// relays: placing relays, rebuilding the indexes and the ECS scope tables
// of closest, which read every network of the database. It reports the
// heap the result keeps. The database has 40,000 IPv4 and 10,000 IPv6
// networks around 10,000 cities; AMTRELAY_BENCH_CITY=V4,V6,CITIES
// sets other sizes (3500000,1000000,150000 is a full commercial City
// database; writing it takes minutes and several GB).
func BenchmarkGeoLoaded(b *testing.B) {
	v4, v6, locations := 40000, 10000, 10000
	if s := os.Getenv("AMTRELAY_BENCH_CITY"); s != "" {
		if _, err := fmt.Sscanf(s, "%d,%d,%d", &v4, &v6, &locations); err != nil {
			b.Fatalf("AMTRELAY_BENCH_CITY=%q: want V4,V6,LOCATIONS", s)
		}
	}
	start := time.Now()
	path := writeGeo(b, cityNetworks(v4, v6, locations))
	b.Logf("database of %d networks written in %s", v4+v6, time.Since(start).Round(time.Millisecond))
	a := newTestHandler(b, benchCorefile("closest", 10000))
	db, err := loadGeo(path)
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		a.geoLoaded(db)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(len(a.groups[0].scopes.Load().wide)), "merged-prefixes")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6, "MB-kept")
	b.Logf("heap in use %s MB after the build", strconv.FormatFloat(float64(after.HeapAlloc)/1e6, 'f', 0, 64))
}
