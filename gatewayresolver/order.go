package gatewayresolver

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// zeroSRVWeight is the relative weight of an SRV record of weight 0, which
// RFC 2782 gives "a very small chance of being selected".
const zeroSRVWeight = 0.01

// item is a candidate being ordered, with what the order depends on.
type item struct {
	c        Candidate
	rank     int     // tier position in the effective tier order
	prefer   int     // index in Resolver.Prefer, or len(Prefer)
	key      float64 // weighted random key: higher goes first among ties
	unusable string  // why Rule 1 calls it unusable
}

// stage names the criterion that put one candidate after another.
type stage int

const (
	stageTie    stage = iota // nothing but the pseudorandom order
	stagePrefer              // Resolver.Prefer
	stageTier                // tier order (RFC 8777 §3.1.2)
	stageGroup               // DRIAD precedence or SRV priority
	stage6724                // RFC 6724 §6 rules 1-9
)

// order sorts candidates as RFC 8777 §3.1.2 says and explains each
// position in its Reason: first Resolver.Prefer, then the tiers (DNS-SD,
// anycast, DRIAD by default), within DRIAD the precedence (lower first) and
// within DNS-SD the SRV priority, then RFC 6724 §6 destination address
// selection, whose Rule 1 puts candidates in hold-down, without a source
// address or without an address last. Remaining ties are broken
// pseudorandomly, weighted by Bias and, for DNS-SD, by SRV weight.
func (r *Resolver) order(cands []Candidate) []Candidate {
	ranks := tierRanks(r.TierOrder)
	sourceFor := r.sourceFor()
	type srcResult struct {
		src Source
		err error
	}
	sources := map[netip.Addr]srcResult{}
	items := make([]item, len(cands))
	for i, c := range cands {
		it := item{c: c, rank: ranks[c.Tier], prefer: len(r.Prefer)}
		it.c.Usable = false
		it.c.Source = Source{}
		switch {
		case !c.Addr.IsValid():
			it.unusable = cmp.Or(c.Reason, "no address")
			it.c.Reason = ""
		default:
			if until, why, held := r.Holds().Held(c.Addr); held {
				it.c.HeldUntil = until
				it.unusable = fmt.Sprintf("in hold-down until %s (%s; RFC 8777 §3.3.4.1, §3.3.5)", until.Format("15:04:05"), why)
				break
			}
			sr, ok := sources[c.Addr.Addr()]
			if !ok {
				sr.src, sr.err = sourceFor(c.Addr.Addr())
				if sr.err == nil && !sr.src.Addr.IsValid() {
					sr.err = fmt.Errorf("no source address for %v", c.Addr.Addr())
				}
				sources[c.Addr.Addr()] = sr
			}
			if sr.err != nil {
				it.unusable = "no source address: " + sr.err.Error()
				break
			}
			it.c.Source = sr.src
			it.c.Usable = true
			if j := slices.Index(r.Prefer, c.Addr.Addr()); j >= 0 {
				it.prefer = j
			}
		}
		it.key = r.tieKey(it.c)
		items[i] = it
	}
	// Shuffle first, so that the stable sort leaves ties in random order.
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(b.key, a.key) })
	slices.SortStableFunc(items, func(a, b item) int {
		c, _, _ := compareItems(&a, &b)
		return c
	})
	out := make([]Candidate, len(items))
	for i := range items {
		var prev *item
		if i > 0 {
			prev = &items[i-1]
		}
		items[i].c.Reason = r.reason(prev, &items[i])
		out[i] = items[i].c
	}
	return out
}

// tierRanks gives each tier its position: TierOrder's tiers first, then the
// rest in the default order.
func tierRanks(order []Tier) map[Tier]int {
	ranks := map[Tier]int{}
	for _, t := range append(slices.Clone(order), defaultTierOrder...) {
		if _, ok := ranks[t]; !ok {
			ranks[t] = len(ranks)
		}
	}
	return ranks
}

// tieKey draws the weighted random key of c (Efraimidis-Spirakis: u^(1/w),
// so sorting by key is a weighted shuffle). Weight 0 sorts after every
// positive weight, in random order.
func (r *Resolver) tieKey(c Candidate) float64 {
	w := 1.0
	if r.Bias != nil {
		w = r.Bias(c)
	}
	if c.Tier == TierDNSSD {
		if c.Weight == 0 {
			w *= zeroSRVWeight
		} else {
			w *= float64(c.Weight)
		}
	}
	u := r.randFloat()
	if !(w > 0) || math.IsInf(w, 0) {
		return u - 1
	}
	return math.Pow(u, 1/w)
}

// compareItems orders a before b (-1) or after (+1) and says by what.
func compareItems(a, b *item) (int, stage, rule6724) {
	if c := cmp.Compare(a.prefer, b.prefer); c != 0 {
		return c, stagePrefer, rule6724{}
	}
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c, stageTier, rule6724{}
	}
	if c := cmp.Compare(group(a.c), group(b.c)); c != 0 {
		return c, stageGroup, rule6724{}
	}
	c, rule := compare6724(
		destination{addr: a.c.Addr.Addr(), src: a.c.Source, usable: a.c.Usable},
		destination{addr: b.c.Addr.Addr(), src: b.c.Source, usable: b.c.Usable},
	)
	if c != 0 {
		return c, stage6724, rule
	}
	return 0, stageTie, rule6724{}
}

// group is the sort key inside a tier: DRIAD precedence, SRV priority.
func group(c Candidate) int {
	switch c.Tier {
	case TierDRIAD:
		return int(c.Precedence)
	case TierDNSSD:
		return int(c.Priority)
	}
	return 0
}

func groupName(c Candidate) string {
	switch c.Tier {
	case TierDRIAD:
		return fmt.Sprintf("precedence %d", c.Precedence)
	case TierDNSSD:
		return fmt.Sprintf("SRV priority %d", c.Priority)
	}
	return ""
}

// label names a candidate in another's reason.
func label(c Candidate) string {
	if c.Addr.IsValid() {
		return c.Addr.Addr().String()
	}
	return strings.TrimSuffix(c.Name, ".")
}

// reason explains why it comes right after prev (nil for the first).
func (r *Resolver) reason(prev, it *item) string {
	c := it.c
	var why string
	st := stageTier
	var rule rule6724
	if prev != nil {
		_, st, rule = compareItems(prev, it)
	}
	tierNote := "RFC 8777 §3.1.2"
	if len(r.TierOrder) > 0 {
		tierNote = "configured tier order"
	}
	switch {
	case it.prefer < len(r.Prefer):
		why = fmt.Sprintf("administratively preferred relay #%d", it.prefer+1)
	case prev == nil || st == stagePrefer:
		why = fmt.Sprintf("%s is the first tier with candidates (%s)", c.Tier, tierNote)
		if prev != nil {
			why = fmt.Sprintf("first of the %s tier after the preferred relays (%s)", c.Tier, tierNote)
		}
		if g := groupName(c); g != "" {
			why += ", " + g
		}
	case st == stageTier:
		why = fmt.Sprintf("%s tier comes after %s (%s)", c.Tier, prev.c.Tier, tierNote)
		if g := groupName(c); g != "" {
			why += ", " + g
		}
	case st == stageGroup && c.Tier == TierDRIAD:
		why = fmt.Sprintf("precedence %d after precedence %d (lower first, RFC 8777 §4.2.1)", c.Precedence, prev.c.Precedence)
	case st == stageGroup:
		why = fmt.Sprintf("SRV priority %d after priority %d (lower first, RFC 2782)", c.Priority, prev.c.Priority)
	case !c.Usable:
		why = "after the usable candidates of its group"
	case st == stage6724:
		why = fmt.Sprintf("after %s by RFC 6724 rule %d (%s)", label(prev.c), rule.rule, rule.why)
	default:
		why = fmt.Sprintf("tied with %s under RFC 6724 §6, pseudorandom order (RFC 8777 §3.1.2)", label(prev.c))
	}
	if !c.Usable {
		why += "; unusable (RFC 6724 rule 1): " + it.unusable
	}
	if c.Reason != "" {
		why += "; " + c.Reason
	}
	return why
}
