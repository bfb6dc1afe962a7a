package amtrelay

import (
	"math"
	"sync/atomic"
)

// roundRobinPolicy rotates the Corefile order by one relay per query.
type roundRobinPolicy struct {
	next *atomic.Uint64
}

func newRoundRobinPolicy(*group) (policy, error) {
	return roundRobinPolicy{next: new(atomic.Uint64)}, nil
}

func (p roundRobinPolicy) rank(q *query) ranking {
	g := q.group
	n, limit := len(g.relays), g.limit
	start := int(p.next.Add(1)-1) % max(n, 1)
	cs := make([]candidate, 0, min(limit, n))
	for i := 0; i < n && len(cs) < limit; i++ {
		r := g.relays[(start+i)%n]
		if q.eligible(r) {
			cs = append(cs, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(cs))})
		}
	}
	assignPrecedence(cs)
	return ranking{chosen: cs}
}
