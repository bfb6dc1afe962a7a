package amtrelay

import (
	"math"
	"sort"
)

// policy orders a group's relays for one query. Lower precedence values
// are tried first (RFC 8777 §4.2.1); equal values let gateways choose at
// random (§3.1.2). Implementations are unexported; String returns the
// Corefile keyword that selects them.
type policy interface {
	String() string
	// clientDependent reports whether answers depend on where the client
	// is, which a shared cache cannot know.
	clientDependent() bool
	rank(q *query) ranking
}

// staticPolicy lists the eligible relays with their configured
// precedence, in Corefile order.
type staticPolicy struct{}

func (staticPolicy) String() string        { return "static" }
func (staticPolicy) clientDependent() bool { return false }
func (staticPolicy) rank(q *query) ranking {
	cs := inOrder(q, q.limit())
	for i := range cs {
		cs[i].precedence = cs[i].relay.record.Precedence
		cs[i].score = float64(cs[i].precedence)
	}
	return ranking{chosen: cs}
}

// failoverPolicy lists the eligible relays in Corefile order, each with
// its own precedence: the operator's fixed order.
type failoverPolicy struct{}

func (failoverPolicy) String() string        { return "failover" }
func (failoverPolicy) clientDependent() bool { return false }
func (failoverPolicy) rank(q *query) ranking {
	cs := inOrder(q, q.limit())
	assignPrecedence(cs)
	return ranking{chosen: cs}
}

// roundRobinPolicy rotates the Corefile order by one relay per query.
type roundRobinPolicy struct{}

func (roundRobinPolicy) String() string        { return "round-robin" }
func (roundRobinPolicy) clientDependent() bool { return false }
func (roundRobinPolicy) rank(q *query) ranking {
	g := q.group
	n, limit := len(g.relays), q.limit()
	start := int(g.next.Add(1)-1) % max(n, 1)
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

// weightedPolicy draws relays at random in proportion to their weight,
// without replacement: the first relay of an answer is relay i with
// probability weight(i)/Σweight among eligible relays.
type weightedPolicy struct{}

func (weightedPolicy) String() string        { return "weighted" }
func (weightedPolicy) clientDependent() bool { return false }
func (weightedPolicy) rank(q *query) ranking {
	g := q.group
	limit := min(q.limit(), len(g.relays))
	cs := make([]candidate, 0, limit)
	taken := make(map[*relay]bool, limit)
	total := g.cumWeight[len(g.cumWeight)-1]
	// Draw by binary search on the cumulative weights; redraw on a relay
	// already taken or not eligible. The bound keeps a group of mostly
	// down relays from spinning; the rest are then taken by weight order.
	for tries := 0; len(cs) < limit && tries < 8*limit+16 && total > 0; tries++ {
		x := q.sel.rand() * total
		i := sort.SearchFloat64s(g.cumWeight, x)
		if i < len(g.cumWeight) && g.cumWeight[i] == x {
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
	for _, r := range g.byWeight {
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
