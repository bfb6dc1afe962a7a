package amtrelay

import (
	"math"
	"net/netip"
	"time"
)

// client is who a query is for: the ECS subnet's address, or the
// querying resolver's, and where the GeoIP database places it.
type client struct {
	addr netip.Addr
	// viaECS is set when addr came from the EDNS Client Subnet option.
	viaECS bool
	loc    location
	// lookedUp is set once loc has been looked up.
	lookedUp bool
	// unknownReason says why loc is unknown: "no_database" or
	// "not_in_database".
	unknownReason string
}

// candidate is a relay considered for an answer, with what the policy
// measured.
type candidate struct {
	relay *relay
	// distanceKm from the client, NaN when either location is unknown.
	distanceKm float64
	// utilisation is load/capacity, NaN when unknown.
	utilisation float64
	// score is what the policy ordered by (lower first); equal scores
	// share a precedence.
	score      float64
	precedence uint8
}

// ranking is a policy's answer for one query.
type ranking struct {
	chosen []candidate
	// usesClient is set when the client's location decided the order, so
	// the answer is valid only for the client's GeoIP network (ECS scope).
	usesClient bool
	// fallback names why the policy could not do what it does best, for
	// metrics and explanations: "no_client_location", "no_relay_location",
	// "load_unknown", "all_down".
	fallback string
	// noRelay answers "0 0 0 ." (all relays down, `all-down no-relay`).
	noRelay bool
}

// query is the input of a policy: the group, the client and the time.
type query struct {
	group  *group
	client *client
	now    time.Time
	sel    *selector
	// ignoreHealth ranks as if every relay were up and undrained: the
	// fail-open answer when none is.
	ignoreHealth bool
}

// eligible reports whether r may be handed out in this answer.
func (q *query) eligible(r *relay) bool { return q.ignoreHealth || r.eligible() }

// utilisation of r now, NaN when unknown or stale.
func (q *query) utilisation(r *relay) float64 { return r.utilisation(q.now, q.sel.maxLoadAge) }

// distanceTo returns the distance from the client to r, or NaN.
func (q *query) distanceTo(r *relay) float64 {
	if !q.client.loc.known {
		return math.NaN()
	}
	p, ok := r.location()
	if !ok {
		return math.NaN()
	}
	return q.client.loc.p.distanceKm(p)
}

// limit is the number of relays an answer may hold: the group's
// `answer`, else the policy's default.
func (q *query) limit() int {
	if q.group.answer > 0 {
		return q.group.answer
	}
	if _, ok := q.group.policy.(staticPolicy); ok {
		return len(q.group.relays)
	}
	return defaultAnswer
}

// defaultAnswer is how many relays ranking policies answer with (issue:
// "up to N relays, default 3").
const defaultAnswer = 3

// assignPrecedence numbers the chosen candidates by rank: candidates with
// equal scores (in order) share a precedence, so gateways pick among them
// at random (RFC 8777 §3.1.2); the next distinct score gets the next
// value.
func assignPrecedence(cs []candidate) {
	p := 0
	for i := range cs {
		if i > 0 && cs[i].score != cs[i-1].score {
			p++
		}
		cs[i].precedence = uint8(min(p, 255))
	}
}

// inOrder returns the first n eligible relays of g in Corefile order, as
// candidates with distinct scores.
func inOrder(q *query, n int) []candidate {
	out := make([]candidate, 0, n)
	for _, r := range q.group.relays {
		if len(out) == n {
			break
		}
		if q.eligible(r) {
			out = append(out, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(out))})
		}
	}
	return out
}

// clientLocation looks the client up in the GeoIP database, once, and
// reports whether it has a location.
func (q *query) clientLocation() bool {
	c := q.client
	if c.lookedUp {
		return c.loc.known
	}
	c.lookedUp = true
	db := q.sel.geo.reader()
	switch {
	case db == nil:
		c.unknownReason = "no_database"
	default:
		c.loc = db.lookup(c.addr)
		if !c.loc.known {
			c.unknownReason = "not_in_database"
		}
	}
	return c.loc.known
}
