package amtrelay

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// spillOverPolicy sends each client to its nearest relay (its home) until
// that relay fills, and spreads the overflow over the next nearest relays
// by their spare capacity:
//
//   - below the low mark (load/capacity) the home relay is ranked first;
//   - between the low and the high mark a growing share of clients, from
//     0 to 1, is shed (by a draw from the source name, the time bucket and
//     the client's GeoIP network, draw.go): their first relay is drawn from the spread next
//     nearest relays, each with probability in proportion to its spare
//     capacity, (high − load/capacity) × capacity;
//   - at or over the high mark, or when the home relay is down, every
//     client is shed that way.
//
// So when a site fails or fills, its clients spread over several nearby
// sites instead of all landing on the next one. The rest of the answer
// follows in distance order, relays at or over the high mark last.
// Unknown loads count as the low mark: with no load known this is the
// closest policy. With no client location the answer is the failover
// order.
type spillOverPolicy struct {
	low, high float64
	spread    int
}

// Defaults of `policy spill-over`.
const (
	defaultSpillLow    = 0.7
	defaultSpillHigh   = 0.9
	defaultSpillSpread = 3
)

// parseSpillOver reads the arguments of `policy spill-over [LOW HIGH
// [SPREAD]]`.
func parseSpillOver(params []string) (string, policyBuilder, error) {
	p := spillOverPolicy{low: defaultSpillLow, high: defaultSpillHigh, spread: defaultSpillSpread}
	if len(params) != 0 && len(params) != 2 && len(params) != 3 {
		return "", nil, errors.New("policy spill-over takes LOW HIGH [SPREAD], such as 'spill-over 0.7 0.9 3'")
	}
	if len(params) >= 2 {
		low, err1 := strconv.ParseFloat(params[0], 64)
		high, err2 := strconv.ParseFloat(params[1], 64)
		if err1 != nil || err2 != nil || !(low >= 0 && low < high && high <= 1) {
			return "", nil, fmt.Errorf("policy spill-over marks '%s %s' must be load/capacity fractions with 0 <= LOW < HIGH <= 1", params[0], params[1])
		}
		p.low, p.high = low, high
	}
	if len(params) == 3 {
		n, err := strconv.Atoi(params[2])
		if err != nil || n < 1 || n > 64 {
			return "", nil, fmt.Errorf("policy spill-over SPREAD '%s' must be a number of relays from 1 to 64", params[2])
		}
		p.spread = n
	}
	text := fmt.Sprintf("spill-over %g %g %d", p.low, p.high, p.spread)
	return text, func(*group) (policy, error) { return p, nil }, nil
}

// shedShare is the share of clients sent away from a relay at
// utilisation u.
func (p spillOverPolicy) shedShare(u float64) float64 {
	switch {
	case math.IsNaN(u) || u <= p.low:
		return 0
	case u >= p.high:
		return 1
	}
	return (u - p.low) / (p.high - p.low)
}

// spare is a relay's spare capacity up to the high mark; unknown load
// counts as the low mark.
func (p spillOverPolicy) spare(r *relay, u float64) float64 {
	if math.IsNaN(u) {
		u = p.low
	}
	return math.Max(0, p.high-u) * r.capacity
}

func (p spillOverPolicy) rank(q *query) ranking {
	if !q.loc.known {
		return failoverFallback(q, "no_client_location")
	}
	limit := q.group.limit
	near, home, _ := q.nearest(limit + p.spread)
	cs := q.candidateBuf(len(near))
	for i, n := range near {
		cs[i] = candidate{relay: n.relay, listed: n.listed, distanceKm: n.km, utilisation: q.utilisation(n.relay)}
	}
	rk := ranking{usesClient: true}

	shed := 1.0
	if home != nil && q.eligible(home) {
		shed = p.shedShare(q.utilisation(home))
	}
	first := 0 // index in cs of the relay ranked first
	if shed > 0 && q.draw(saltShed, true) < shed {
		first = p.spill(q, cs, home)
	}
	// Ranked: the first relay, then the rest by distance with relays
	// at or over the high mark after the others.
	out := make([]candidate, 0, limit)
	if len(cs) > 0 {
		out = append(out, cs[first])
	}
	for _, full := range []bool{false, true} {
		for i, c := range cs {
			if len(out) == limit {
				break
			}
			if i != first && (c.utilisation >= p.high) == full {
				out = append(out, c)
			}
		}
	}
	for i := range out {
		out[i].score = float64(i)
		if math.IsNaN(out[i].utilisation) {
			rk.fallback = "load_unknown"
		}
	}
	assignPrecedence(out)
	rk.chosen = out
	return rk
}

// spill picks the first relay for a shed client among the spread nearest
// relays other than home, by spare capacity. With no spare capacity
// anywhere it keeps the distance order (index 0).
func (p spillOverPolicy) spill(q *query, cs []candidate, home *relay) int {
	var pool []int
	total := 0.0
	for i, c := range cs {
		if len(pool) == p.spread {
			break
		}
		if c.relay == home {
			continue
		}
		if s := p.spare(c.relay, c.utilisation); s > 0 {
			pool = append(pool, i)
			total += s
		}
	}
	if total == 0 {
		return 0
	}
	x := q.draw(saltSpill, true) * total
	for _, i := range pool {
		x -= p.spare(cs[i].relay, cs[i].utilisation)
		if x < 0 {
			return i
		}
	}
	return pool[len(pool)-1]
}
