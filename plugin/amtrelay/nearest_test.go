package amtrelay

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteNearest is nearIndex.nearest by sorting every relay: the
// definition the index must meet.
func bruteNearest(q *query, relays []*relay, k int) ([]*relay, *relay) {
	type entry struct {
		i  int
		d2 float64
	}
	c := q.loc.point()
	var located []entry
	for i, r := range relays {
		if p, ok := r.location(); ok {
			located = append(located, entry{i, chord2([3]float64{c.x, c.y, c.z}, [3]float64{p.x, p.y, p.z})})
		}
	}
	slices.SortStableFunc(located, func(a, b entry) int { return cmp.Compare(a.d2, b.d2) })
	var out []*relay
	var home *relay
	for _, e := range located {
		r := relays[e.i]
		if home == nil && !r.drained {
			home = r
		}
		if len(out) < k && q.eligible(r) {
			out = append(out, r)
		}
	}
	for _, r := range relays {
		if _, ok := r.location(); !ok && len(out) < k && q.eligible(r) {
			out = append(out, r)
		}
	}
	return out, home
}

// randomRelays makes n relays, some sharing a point (ties), some with no
// location, some drained, and marks a share of them down.
func randomRelays(rng *rand.Rand, n int, downShare float64) []*relay {
	var sites []point
	relays := make([]*relay, n)
	for i := range relays {
		r := &relay{name: fmt.Sprintf("r%d", i), drained: rng.IntN(20) == 0, down: newDownFlag()}
		switch {
		case rng.IntN(25) == 0: // no location
		case len(sites) > 0 && rng.IntN(8) == 0: // at an earlier relay's point
			r.configured, r.hasLocation = sites[rng.IntN(len(sites))], true
		default:
			p, _ := newPoint(rng.Float64()*180-90, rng.Float64()*360-180)
			r.configured, r.hasLocation = p, true
			sites = append(sites, p)
		}
		r.down.Store(rng.Float64() < downShare)
		relays[i] = r
	}
	return relays
}

// TestNearIndexMatchesBruteForce compares the index's answers with a
// ranking of every relay, for random clients, relay sets (scanned and
// tree-searched), health and drain states, including more relays down
// than an answer is long, and the fail-open ranking that ignores health.
func TestNearIndexMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{1, 5, scanLimit, scanLimit + 1, 200, 3000} {
		for _, down := range []float64{0, 0.3, 0.95, 1} {
			relays := randomRelays(rng, n, down)
			ix := newNearIndex(relays)
			if (ix.tree != nil) != (n-len(ix.unlocated) > scanLimit) {
				t.Fatalf("n=%d: tree %v with %d located", n, ix.tree != nil, n-len(ix.unlocated))
			}
			for range 200 {
				p, _ := newPoint(rng.Float64()*180-90, rng.Float64()*360-180)
				if rng.IntN(10) == 0 && relays[0].hasLocation {
					p = relays[0].configured // a client exactly at a site
				}
				q := &query{loc: location{known: true, p: p}, ignoreHealth: rng.IntN(6) == 0}
				k := 1 + rng.IntN(12)
				got, home, asIfAllUp := ix.nearest(q, k)
				want, wantHome := bruteNearest(q, relays, k)
				up := *q
				up.assumeUp = true
				allUp, _ := bruteNearest(&up, relays, k)
				if wantAllUp := !q.ignoreHealth && slices.Equal(want, allUp); asIfAllUp != wantAllUp {
					t.Fatalf("n=%d down=%g k=%d: as if all up %v, want %v", n, down, k, asIfAllUp, wantAllUp)
				}
				if home != wantHome {
					t.Fatalf("n=%d down=%g k=%d: home %v, want %v", n, down, k, name(home), name(wantHome))
				}
				if len(got) != len(want) {
					t.Fatalf("n=%d down=%g k=%d: %d relays, want %d", n, down, k, len(got), len(want))
				}
				for i := range got {
					if got[i].relay != want[i] {
						t.Fatalf("n=%d down=%g k=%d: relay %d is %s, want %s", n, down, k, i, got[i].relay.name, want[i].name)
					}
					wantKm := math.Round(q.distanceTo(want[i]))
					if !(got[i].km == wantKm || math.IsNaN(got[i].km) && math.IsNaN(wantKm)) {
						t.Fatalf("relay %s at %g km, want %g", got[i].relay.name, got[i].km, wantKm)
					}
				}
			}
		}
	}
}

func name(r *relay) string {
	if r == nil {
		return "none"
	}
	return r.name
}

// TestNearIndexFollowsHealthWithoutRebuild: an index built once gives the
// answer of the relays' current health, whatever changed since.
func TestNearIndexFollowsHealthWithoutRebuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	relays := randomRelays(rng, 2000, 0)
	ix := newNearIndex(relays)
	p, _ := newPoint(48.1, 11.6)
	q := &query{loc: location{known: true, p: p}}
	first, _, _ := ix.nearest(q, 3)
	first[0].relay.down.Store(true)
	after, _, _ := ix.nearest(q, 3)
	if after[0].relay == first[0].relay || after[0].relay != first[1].relay {
		t.Fatalf("after %s went down the first relay is %s, want %s", first[0].relay.name, after[0].relay.name, first[1].relay.name)
	}
	first[0].relay.down.Store(false)
	if again, _, _ := ix.nearest(q, 3); again[0].relay != first[0].relay {
		t.Fatalf("after %s came back the first relay is %s", first[0].relay.name, again[0].relay.name)
	}
}

// BenchmarkNearest is the cost of finding the nearest relays for a client
// that was never seen before (there is no cache to hit), by list length.
func BenchmarkNearest(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		for _, k := range []int{3, 6} {
			b.Run(fmt.Sprintf("relays=%d/k=%d", n, k), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, uint64(n)))
				relays := randomRelays(rng, n, 0.1)
				ix := newNearIndex(relays)
				clients := make([]query, 4096)
				for i := range clients {
					p, _ := newPoint(rng.Float64()*140-70, rng.Float64()*360-180)
					clients[i] = query{loc: location{known: true, p: p}}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					ix.nearest(&clients[i%len(clients)], k)
					i++
				}
			})
		}
	}
}
