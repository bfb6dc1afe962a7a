package amtrelay

import (
	"math"
	"slices"
)

// leastLoadPolicy lists the relays with the lowest load/capacity first,
// compared in steps of 1% of capacity; within a step, the nearest first.
// Relays whose load is unknown or stale follow, nearest first, so with no
// load known at all this is the closest policy. Relays tied on both share
// a precedence.
type leastLoadPolicy struct{}

func (leastLoadPolicy) String() string        { return "least-load" }
func (leastLoadPolicy) clientDependent() bool { return true }

// unknownLoadStep sorts unknown loads after any real one.
const unknownLoadStep = 1e6

// loadStep is utilisation in whole percent, or unknownLoadStep.
func loadStep(u float64) float64 {
	if math.IsNaN(u) {
		return unknownLoadStep
	}
	return math.Round(u * 100)
}

func (leastLoadPolicy) rank(q *query) ranking {
	located := q.clientLocation()
	limit := q.limit()
	// The order, and one relay past it, are cached per client location;
	// the candidates are rebuilt from them.
	order, _ := q.sel.cache.get(q.key("least-load", limit+1), q.now, loadRankTTL, func() ([]*relay, *relay) {
		var cs []candidate
		for _, r := range q.group.relays {
			if q.eligible(r) {
				cs = insertRanked(cs, q.leastLoadCandidate(r), limit+1)
			}
		}
		out := make([]*relay, len(cs))
		for i, c := range cs {
			out[i] = c.relay
		}
		return out, nil
	})
	cs := make([]candidate, len(order))
	for i, r := range order {
		cs[i] = q.leastLoadCandidate(r)
	}
	rk := ranking{}
	// The client decided the order when two candidates in (or just past)
	// the answer share a load step and distance broke the tie.
	for i := 1; i < len(cs); i++ {
		if loadStep(cs[i].utilisation) == loadStep(cs[i-1].utilisation) && q.client.loc.network.IsValid() {
			rk.usesClient = true
		}
	}
	if len(cs) > limit {
		cs = cs[:limit]
	}
	for _, c := range cs {
		if math.IsNaN(c.utilisation) {
			rk.fallback = "load_unknown"
		}
	}
	if !located && rk.fallback == "" && len(cs) > 1 {
		rk.fallback = "no_client_location"
	}
	assignPrecedence(cs)
	rk.chosen = cs
	return rk
}

// leastLoadCandidate measures r for least-load. Steps are under 1e6 and
// distances under 2e4 km, so one number orders by step, then by whole
// kilometre.
func (q *query) leastLoadCandidate(r *relay) candidate {
	c := candidate{relay: r, distanceKm: q.distanceTo(r), utilisation: q.utilisation(r)}
	dist := c.distanceKm
	if math.IsNaN(dist) {
		dist = 9e6 // after every real distance, within the step
	}
	c.score = loadStep(c.utilisation)*1e7 + math.Round(dist)
	return c
}

// insertRanked adds c to cs, kept sorted by score (then Corefile order)
// and at most k long.
func insertRanked(cs []candidate, c candidate, k int) []candidate {
	i, _ := slices.BinarySearchFunc(cs, c, func(a, b candidate) int {
		if a.score != b.score {
			if a.score < b.score {
				return -1
			}
			return 1
		}
		return a.relay.order - b.relay.order
	})
	if i >= k {
		return cs
	}
	if len(cs) == k {
		cs = cs[:k-1]
	}
	return slices.Insert(cs, i, c)
}
