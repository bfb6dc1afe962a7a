package amtrelay

import (
	"math"
	"net/netip"
	"time"
)

// candidate is a relay considered for an answer, with what the policy
// measured.
type candidate struct {
	relay *relay
	// listed is the relay's place in the list it was found in, when it
	// was (nearIndex): answers then read its RDATA and count it there,
	// not in the relay.
	listed *place
	// distanceKm from the client, NaN when either location is unknown;
	// whole kilometres when a nearest-relay search found c (near).
	distanceKm float64
	// utilisation is load/capacity, NaN when unknown.
	utilisation float64
	// score is what the policy ordered by (lower first); equal scores
	// share a precedence.
	score      float64
	precedence uint8
}

// tail is the inline RDATA of c's relay: its place's, or its own.
func (c *candidate) tail() *rdataTail {
	if c.listed != nil {
		return &c.listed.tail
	}
	return &c.relay.tail
}

// answerID is the number of c's relay in answers_total: its place's, or
// its own.
func (c *candidate) answerID() int32 {
	if c.listed != nil {
		return c.listed.answerID
	}
	return c.relay.answerID
}

// ranking is a policy's answer for one query.
type ranking struct {
	chosen []candidate
	// usesClient is set when the client's location decided the order, so
	// the answer is valid only for the client's GeoIP network (ECS scope),
	// or for scope when that is set: a wider prefix known to get the same
	// answer (scope.go).
	usesClient bool
	scope      netip.Prefix
	// fallback names why the policy could not do what it does best, for
	// metrics and explanations: "no_client_location", "no_relay_location",
	// "load_unknown", "all_down".
	fallback string
	// noRelay answers "0 0 0 ." (RFC 8777 §4.2.3): configured for the
	// source (`none`), or all relays down with `all-down no-relay`.
	noRelay bool
	// configured is set when the source is configured `none`.
	configured bool
	// servfail fails the query: all relays down, with `all-down servfail`.
	servfail bool
}

// query is what a policy ranks for: the source's group, where the client
// is (located before ranking when the policy locates; the zero location
// otherwise), and the time.
type query struct {
	group *group
	loc   location
	now   time.Time
	sel   *selector
	// ignoreHealth ranks as if every relay were up and undrained: the
	// fail-open answer when none is.
	ignoreHealth bool
	// assumeUp ranks as if every relay were up (drained ones stay out):
	// the ranking ECS scopes are built from.
	assumeUp bool
	// key is what the query's tie-breaks and rotations derive from
	// (draw.go).
	key drawKey
	// scratch, when set, is room in the request for what ranking
	// returns (nil for queries ranked outside a request).
	scratch *scratch
}

// scratch holds the nearest relays and the candidates of one ranking, in
// the request (request.go), so that ranking an answer of a few relays
// allocates nothing: each allocation is also garbage to collect, and the
// collector's work grows with the heap, which 10,000 relays make large.
type scratch struct {
	near       [scratchLen]near
	candidates [scratchLen]candidate
}

// scratchLen is how many relays scratch holds: answers of up to 3
// relays, with room for spill-over's spread and the lists' margin.
const scratchLen = 8

// nearBuf returns an empty slice of capacity k for nearest relays: the
// scratch's when it has room, else a new one. A ranking takes it once.
func (q *query) nearBuf(k int) []near {
	if q.scratch != nil && k <= scratchLen {
		return q.scratch.near[:0:k]
	}
	return make([]near, 0, k)
}

// candidateBuf returns a slice of n candidates, as nearBuf does.
func (q *query) candidateBuf(n int) []candidate {
	if q.scratch != nil && n <= scratchLen {
		return q.scratch.candidates[:n:n]
	}
	return make([]candidate, n)
}

// eligible reports whether r may be handed out in this answer: it is up,
// not drained, and reaches the source by the group's beacon. A relay
// without a path to the source counts as one that is down, here only:
// for other sources it may still be given.
func (q *query) eligible(r *relay) bool { return q.eligibleAs(r, r.drained, r.down) }

// eligibleAs is eligible for r, drained or not, with the down flag down:
// what a list of relays (place) holds of r, so that it need not read r.
func (q *query) eligibleAs(r *relay, drained bool, down downFlag) bool {
	return q.ignoreHealth || (q.assumeUp && !drained) || (relayEligible(drained, down) && q.group.reaches(r))
}

// utilisation of r now, NaN when unknown or stale.
func (q *query) utilisation(r *relay) float64 { return r.utilisation(q.now, q.sel.maxLoadAge) }

// distanceTo returns the distance from the client to r, or NaN.
func (q *query) distanceTo(r *relay) float64 {
	if !q.loc.known {
		return math.NaN()
	}
	p, ok := r.location()
	if !ok {
		return math.NaN()
	}
	return q.loc.point().distanceKm(p)
}

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

// rank runs q's policy and applies the server block's all-down behaviour
// when no relay is eligible. The result says what to answer, including
// "no relay" and SERVFAIL; count counts it.
func (a *AMTRelay) rank(q *query) ranking {
	g := q.group
	rk := g.policy.rank(q)
	if len(rk.chosen) > 0 || rk.noRelay || len(g.relays) == 0 {
		return rk
	}
	switch a.allDown {
	case allDownServfail:
		return ranking{fallback: "all_down", servfail: true}
	case allDownNoRelay:
		return ranking{fallback: "all_down", noRelay: true}
	}
	q.ignoreHealth = true
	rk = g.policy.rank(q)
	rk.fallback = "all_down"
	return rk
}

// noRelayLabel is the relay label of answers with no relay.
var noRelayLabel = "none"

// noRelayID numbers noRelayLabel in answers_total.
var noRelayID = answers.valueID(noRelayLabel)

// count is the one place where rankings are counted: fallbacks, clients
// the GeoIP database could not place, and answers by the relay ranked
// first ("none" for no relay).
func (rk *ranking) count(l queryLabels, g *group, cl *client) {
	policy := g.spec.name
	if rk.fallback != "" {
		fallbacks.WithLabelValues(l.server, l.zone, l.view, policy, rk.fallback).Inc()
	}
	if cl.lookedUp && !cl.loc.known {
		locationUnknown.WithLabelValues(l.server, l.zone, l.view, cl.unknownReason).Inc()
	}
	switch {
	case rk.servfail:
	case len(rk.chosen) > 0:
		answers.count(&g.answered, l, policy, rk.chosen[0].answerID())
	default:
		answers.count(&g.answered, l, policy, noRelayID)
	}
}
