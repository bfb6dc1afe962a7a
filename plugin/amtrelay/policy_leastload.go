package amtrelay

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// leastLoadPolicy lists the relays with the lowest load/capacity first,
// compared in steps of 1% of capacity; within a step, the nearest first
// (then Corefile order). Relays whose load is unknown or stale follow,
// nearest first, so with no load known at all this is the closest policy.
// Relays tied on both share a precedence.
//
// Cost per query grows with the logarithm of the number of relays: the
// group's relays are kept sorted by load step (rebuilt when loads change,
// and at most every loadRankTTL while loads can age), only the steps that
// fill the answer are looked at, and within a step of many relays a
// nearest-relay index finds the nearest.
type leastLoadPolicy struct {
	loads *loadSnapshots
}

func newLeastLoadPolicy(*group) (policy, error) {
	return leastLoadPolicy{loads: new(loadSnapshots)}, nil
}

// unknownLoadStep sorts unknown loads after any real one.
const unknownLoadStep = math.MaxInt32

// loadRankTTL bounds how long a load order is reused while live loads
// can age into "unknown" without any event to say so.
const loadRankTTL = time.Second

// loadStep is utilisation in whole percent, or unknownLoadStep.
func loadStep(u float64) float64 {
	if math.IsNaN(u) {
		return unknownLoadStep
	}
	return math.Round(u * 100)
}

// loadOrder is a group's relays grouped by load step, lowest first.
type loadOrder struct {
	generation  uint64 // the selector's generation it was built in
	built       time.Time
	steps       []loadStepGroup
	agesOutSoon bool // some load can turn stale: rebuild after loadRankTTL
}

type loadStepGroup struct {
	step   float64
	relays []*relay // in Corefile order
	index  *nearIndex
}

// loadSnapshots holds a source's current loadOrder.
type loadSnapshots struct {
	current atomic.Pointer[loadOrder]
	mu      sync.Mutex
}

// loadOrder returns the group's relays by load step, rebuilding the
// snapshot when loads changed or may have aged. One query rebuilds while
// the others use the previous snapshot.
func (s *loadSnapshots) order(q *query) *loadOrder {
	g, gen := q.group, q.sel.generation.Load()
	cur := s.current.Load()
	fresh := cur != nil && cur.generation == gen && (!cur.agesOutSoon || q.now.Sub(cur.built) < loadRankTTL)
	if fresh {
		return cur
	}
	if cur != nil && !s.mu.TryLock() {
		return cur
	}
	if cur == nil {
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if now := s.current.Load(); now != cur {
		return now
	}
	byStep := map[float64][]*relay{}
	snap := &loadOrder{generation: gen, built: q.now}
	for _, r := range g.relays {
		s := loadStep(q.utilisation(r))
		byStep[s] = append(byStep[s], r)
		if _, _, static, ok := r.loadReading(); ok && !static && q.sel.maxLoadAge > 0 {
			snap.agesOutSoon = true
		}
	}
	for s, rs := range byStep {
		sg := loadStepGroup{step: s, relays: rs}
		if len(rs) > 1 {
			sg.index = newNearIndex(rs)
		}
		snap.steps = append(snap.steps, sg)
	}
	slices.SortFunc(snap.steps, func(a, b loadStepGroup) int { return cmp.Compare(a.step, b.step) })
	s.current.Store(snap)
	return snap
}

func (p leastLoadPolicy) rank(q *query) ranking {
	located := q.loc.known
	limit := q.group.limit
	snap := p.loads.order(q)
	rk := ranking{}
	cs := make([]candidate, 0, limit)
	for _, sg := range snap.steps {
		need := limit - len(cs)
		if need <= 0 {
			break
		}
		var picked []near
		switch {
		case len(sg.relays) == 1 || !located:
			for _, r := range firstEligible(q, sg.relays, need) {
				picked = append(picked, near{relay: r, km: q.distanceTo(r)})
			}
		default:
			picked, _, _ = sg.index.nearest(q, need)
		}
		if len(sg.relays) > 1 && len(picked) > 0 {
			// Distance (or, without a location, Corefile order) chose
			// among relays of one step: the answer depends on the client.
			rk.usesClient = q.loc.network.IsValid()
			if !located {
				rk.fallback = "no_client_location"
			}
		}
		for _, n := range picked {
			c := candidate{relay: n.relay, listed: n.listed, distanceKm: n.km, utilisation: q.utilisation(n.relay)}
			dist := c.distanceKm
			if math.IsNaN(dist) {
				dist = 9e6 // after every real distance, within the step
			}
			// Steps are integers and distances under 2e4 km: one number
			// orders by step, then by whole kilometre.
			c.score = sg.step*1e7 + math.Round(dist)
			if math.IsNaN(c.utilisation) {
				rk.fallback = "load_unknown"
			}
			cs = append(cs, c)
		}
	}
	assignPrecedence(cs)
	rk.chosen = cs
	return rk
}

// firstEligible returns up to n eligible relays of rs, in order.
func firstEligible(q *query, rs []*relay, n int) []*relay {
	var out []*relay
	for _, r := range rs {
		if len(out) == n {
			break
		}
		if q.eligible(r) {
			out = append(out, r)
		}
	}
	return out
}
