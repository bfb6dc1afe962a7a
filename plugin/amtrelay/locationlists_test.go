package amtrelay

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLocationListsMatchTree: the answers walked from a precomputed list
// are the tree's, for random places, relay sets, health and drain states;
// when too many relays of a list are out, the list says it cannot tell.
func TestLocationListsMatchTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	db := &geoReader{}
	for _, n := range []int{3, 40, 2000} {
		relays := randomRelays(rng, n, 0)
		ix := newNearIndex(relays)
		places := make([]alignedPoint, 300)
		for i := range places {
			places[i].point, _ = newPoint(rng.Float64()*180-90, rng.Float64()*360-180)
		}
		const k = 3
		ll := buildLocationLists(db, ix, places, k+listMargin)
		fellBack := 0
		for _, down := range []float64{0, 0.2, 0.7} {
			for _, r := range relays {
				r.down.Store(rng.Float64() < down)
			}
			for id, p := range places {
				q := &query{loc: location{known: true, p: p.point, db: db, place: int32(id) + 1}, ignoreHealth: rng.IntN(8) == 0}
				want, wantHome, wantUp := ix.nearest(q, k)
				got, home, up, ok := ll.nearest(q, int32(id), k)
				if !ok {
					fellBack++
					continue
				}
				if !slices.Equal(relaysOf(got), relaysOf(want)) || home != wantHome || up != wantUp {
					t.Fatalf("n=%d down=%g place %d: list gives %v (home %s, as if all up %v), tree %v (home %s, %v)",
						n, down, id, relaysOf(got), name(home), up, relaysOf(want), name(wantHome), wantUp)
				}
				for i := range got {
					if got[i].km != want[i].km && !(got[i].km != got[i].km && want[i].km != want[i].km) {
						t.Fatalf("relay %s at %g km from the list, %g from the tree", got[i].relay.name, got[i].km, want[i].km)
					}
				}
			}
		}
		if n == 2000 && fellBack == 0 {
			t.Error("with 70% of 2,000 relays down no list ran out: the fall-back to the tree is not tested")
		}
	}
}

func relaysOf(ns []near) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.relay.name
	}
	return out
}
