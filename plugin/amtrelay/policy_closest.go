package amtrelay

import "math"

// closestPolicy lists the relays nearest the client first, by great-circle
// distance from the client's GeoIP location to each relay's. Relays at
// the same distance (to the kilometre) share a precedence. Relays with no
// location follow in Corefile order; with no client location the answer
// is the failover order.
type closestPolicy struct{}

func newClosestPolicy(*group) (policy, error) { return closestPolicy{}, nil }

func (closestPolicy) rank(q *query) ranking {
	if !q.loc.known {
		return failoverFallback(q, "no_client_location")
	}
	near, _, asIfAllUp := q.nearest(q.group.limit)
	cs := q.candidateBuf(len(near))
	rk := ranking{chosen: cs}
	if asIfAllUp {
		// Every client of the wider prefix gets this same answer.
		rk.scope = q.group.scopes.Load().widen(q.loc)
	}
	for i, n := range near {
		// Closest does not look at loads: utilisation stays unknown here.
		cs[i] = candidate{relay: n.relay, listed: n.listed, distanceKm: n.km, utilisation: math.NaN()}
		cs[i].score = distanceScore(cs[i].distanceKm, i)
		if math.IsNaN(cs[i].distanceKm) {
			rk.fallback = "no_relay_location"
		} else {
			rk.usesClient = true
		}
	}
	assignPrecedence(cs)
	return rk
}

// unlocatedScore puts relays without a location after all located ones.
const unlocatedScore = 1e9

// distanceScore ranks by whole kilometres; relays without a location get
// distinct scores after every distance, in the order given.
func distanceScore(km float64, i int) float64 {
	if math.IsNaN(km) {
		return unlocatedScore + float64(i)
	}
	return math.Round(km)
}
