package amtrelay

import (
	"math"
)

// roundRobinPolicy rotates the Corefile order by one relay per time
// bucket (the answer TTL) for each source name, each name starting at an
// offset of its own (draw.go): at any moment the names of a source spread
// over its relays, and over time each name's first relay takes every
// relay in turn. The rotation derives from the name and the time only, so
// every instance of a fleet gives the same answer, and it holds for every
// client (ECS scope 0).
type roundRobinPolicy struct{}

func newRoundRobinPolicy(*group) (policy, error) {
	return roundRobinPolicy{}, nil
}

func (p roundRobinPolicy) rank(q *query) ranking {
	g := q.group
	n, limit := len(g.relays), g.limit
	start := int(q.rotation() % uint64(max(n, 1)))
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
