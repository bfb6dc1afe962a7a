package amtrelay

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"sort"
)

// weightedPolicy draws relays in proportion to their weight, without
// replacement: over source names and time buckets, the first relay of an
// answer is relay i with probability weight(i)/Σweight among eligible
// relays. The draws derive from the source name and the time bucket
// (draw.go), not from random state, so every instance of a fleet gives
// the same answer, and it holds for every client (ECS scope 0).
type weightedPolicy struct {
	// cumWeight[i] is the sum of the weights of the source's relays[:i+1],
	// and byWeight the relays by descending weight.
	cumWeight []float64
	byWeight  []*relay
}

func newWeightedPolicy(g *group) (policy, error) {
	p := &weightedPolicy{cumWeight: make([]float64, len(g.relays))}
	sum := 0.0
	for i, r := range g.relays {
		sum += r.weight
		p.cumWeight[i] = sum
	}
	if sum == 0 {
		return nil, errors.New("policy weighted: every relay of this source has weight 0, so none could be answered: give one a weight above 0")
	}
	p.byWeight = slices.Clone(g.relays)
	slices.SortStableFunc(p.byWeight, func(a, b *relay) int { return cmp.Compare(b.weight, a.weight) })
	return p, nil
}

func (p *weightedPolicy) rank(q *query) ranking {
	g := q.group
	limit := min(g.limit, len(g.relays))
	cs := make([]candidate, 0, limit)
	taken := make(map[*relay]bool, limit)
	total := p.cumWeight[len(p.cumWeight)-1]
	// Draw by binary search on the cumulative weights; redraw on a relay
	// already taken or not eligible. The bound keeps a source of mostly
	// down relays from spinning; the rest are then taken by weight order.
	for tries := 0; len(cs) < limit && tries < 8*limit+16 && total > 0; tries++ {
		x := q.draw(saltWeighted+uint64(tries), false) * total
		i := sort.SearchFloat64s(p.cumWeight, x)
		if i < len(p.cumWeight) && p.cumWeight[i] == x {
			i++
		}
		i = min(i, len(g.relays)-1)
		r := g.relays[i]
		if taken[r] || !q.eligible(r) || r.weight == 0 {
			continue
		}
		taken[r] = true
		cs = append(cs, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(cs))})
	}
	for _, r := range p.byWeight {
		if len(cs) == limit {
			break
		}
		if !taken[r] && q.eligible(r) && r.weight > 0 {
			taken[r] = true
			cs = append(cs, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(cs))})
		}
	}
	assignPrecedence(cs)
	return ranking{chosen: cs}
}
