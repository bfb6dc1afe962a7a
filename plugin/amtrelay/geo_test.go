package amtrelay

import (
	"math"
	"testing"
)

func mustPoint(t testing.TB, lat, lon float64) point {
	t.Helper()
	p, err := newPoint(lat, lon)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDistance checks great-circle distances against published values
// (haversine with R = 6371 km).
func TestDistance(t *testing.T) {
	cambridge, chicago, sydney := mustPoint(t, 52.2053, 0.1218), mustPoint(t, 41.8781, -87.6298), mustPoint(t, -33.8688, 151.2093)
	for _, tc := range []struct {
		name string
		a, b point
		km   float64
	}{
		{"Cambridge-Chicago", cambridge, chicago, 6340},
		{"Cambridge-Sydney", cambridge, sydney, 16990},
		{"Chicago-Sydney", chicago, sydney, 14870},
		{"same place", sydney, sydney, 0},
		{"antipodes", mustPoint(t, 0, 0), mustPoint(t, 0, 180), math.Pi * earthRadiusKm},
		{"pole to pole", mustPoint(t, 90, 0), mustPoint(t, -90, 0), math.Pi * earthRadiusKm},
	} {
		got := tc.a.distanceKm(tc.b)
		if math.Abs(got-tc.km) > tc.km*0.005+1 {
			t.Errorf("%s: %.0f km, want %.0f km", tc.name, got, tc.km)
		}
		if back := tc.b.distanceKm(tc.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("%s: not symmetric", tc.name)
		}
	}
	// The squared chord, which nearIndex orders by, orders like distance.
	v := func(p point) [3]float64 { return [3]float64{p.x, p.y, p.z} }
	if !(chord2(v(cambridge), v(chicago)) < chord2(v(cambridge), v(sydney))) {
		t.Error("chord2 does not order Chicago before Sydney from Cambridge")
	}
}

func TestNewPointRejects(t *testing.T) {
	for _, ll := range [][2]float64{{91, 0}, {-91, 0}, {0, 181}, {0, -181}, {math.NaN(), 0}} {
		if _, err := newPoint(ll[0], ll[1]); err == nil {
			t.Errorf("newPoint(%v) accepted", ll)
		}
	}
}
