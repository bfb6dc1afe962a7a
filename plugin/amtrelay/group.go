package amtrelay

import (
	"cmp"
	"slices"
	"sync/atomic"
)

// group is what one `source` directive configures: the relays that have
// multicast connectivity to its prefixes and how to choose among them.
type group struct {
	// id numbers groups within a server block, for cache keys.
	id int
	// relays serve the group's prefixes, in Corefile order.
	relays []*relay
	// noRelay answers "0 0 0 .": do not use AMT for these sources.
	noRelay bool
	policy  policy
	// answer caps the number of relays in an answer; 0 means the policy's
	// default.
	answer int
	pos    position

	// next is the round-robin policy's counter.
	next atomic.Uint64
	// cumWeight[i] is the sum of the weights of relays[:i+1], and
	// byWeight the relays by descending weight, for the weighted policy.
	cumWeight []float64
	byWeight  []*relay
	// loads is the least-load policy's order by load.
	loads loadSnapshots
	// placed holds the relays' places for distance scans; replaced when
	// the GeoIP database moves relays.
	placed atomic.Pointer[[]place]
}

// places returns where the group's relays are, in group order.
func (g *group) places() []place {
	if p := g.placed.Load(); p != nil {
		return *p
	}
	return nil
}

// locate records where the group's relays are now.
func (g *group) locate() {
	p := placesOf(g.relays)
	g.placed.Store(&p)
}

// prepare computes what the group's policies precompute.
func (g *group) prepare() {
	g.cumWeight = make([]float64, len(g.relays))
	sum := 0.0
	for i, r := range g.relays {
		sum += r.weight
		g.cumWeight[i] = sum
	}
	g.byWeight = slices.Clone(g.relays)
	slices.SortStableFunc(g.byWeight, func(a, b *relay) int { return cmp.Compare(b.weight, a.weight) })
	g.locate()
}
