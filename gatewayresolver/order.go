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

// item is a candidate in a lookup's list, with what its place depends on.
// The fields above the line are fixed when it arrives; the others are
// worked out again each time the list is arranged.
type item struct {
	c      Candidate // as the tier gave it, without Usable, Source, Reason
	why    string    // the tier's own remark, such as why a name did not resolve
	seq    int       // arrival order
	rank   int       // position of its tier
	key    float64   // weighted random tie-break key, drawn once
	src    Source
	srcErr error
	given  bool // Connect: the caller's list said it is usable

	out      Candidate // c with Usable, Source, HeldUntil and Reason set
	unusable string    // why RFC 6724 Rule 1 calls it unusable
	held     bool      // unusable only because of a hold-down
	strict   bool      // that hold-down never gives way (HoldDown.Add)
	moved    bool      // moved up by RFC 8305 §4 interleaving
}

// stage names the criterion that put one candidate after another.
type stage int

const (
	stageTie   stage = iota // nothing but the pseudorandom order
	stageTier               // tier order (RFC 8777 §3.1.2)
	stageGroup              // DRIAD precedence or SRV priority
	stage6724               // RFC 6724 §6 rules 1-9
)

// arrange works out each item's usability and sorts the items as RFC 8777
// §3.1.2 says: by tier, within DRIAD by precedence (lower first) and
// within DNS-SD by SRV priority, then by RFC 6724 §6 destination address
// selection, whose Rule 1 puts candidates in hold-down, without a source
// address or without an address last in their group, then by a weighted
// pseudorandom key. Within each group the usable addresses are then
// interleaved by family (RFC 8305 §4). Later copies of an address and port
// are returned apart, as dropped. A fixed feed (Connect) keeps the order it
// was given. Each item's Reason explains its place.
func (f *feed) arrange() (list, dropped []*item) {
	r := f.r
	for _, it := range f.items {
		it.out = it.c
		it.out.Usable, it.out.Source, it.out.HeldUntil = false, Source{}, Candidate{}.HeldUntil
		it.unusable, it.held, it.strict, it.moved = "", false, false, false
		switch {
		case !it.c.Addr.IsValid():
			it.unusable = cmp.Or(it.why, "no address")
			continue
		case f.fixed && !it.given:
			it.unusable = "marked unusable in the list given to Connect"
			continue
		}
		if until, why, held, strict := r.Holds().state(it.c.Addr); held {
			it.out.HeldUntil = until
			it.held, it.strict = true, strict
			it.unusable = fmt.Sprintf("in hold-down until %s (%s; RFC 8777 §3.3.4.1, §3.3.5)", until.Format("15:04:05"), why)
			continue
		}
		if it.srcErr != nil {
			it.unusable = "no source address: " + it.srcErr.Error()
			continue
		}
		it.out.Source = it.src
		it.out.Usable = true
	}
	list = slices.Clone(f.items)
	if !f.fixed {
		slices.SortFunc(list, func(a, b *item) int {
			if c, _, _ := compareItems(a, b); c != 0 {
				return c
			}
			if c := cmp.Compare(b.key, a.key); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
	}
	seen := map[netip.AddrPort]bool{}
	kept := list[:0]
	for _, it := range list {
		if it.c.Addr.IsValid() {
			if seen[it.c.Addr] {
				dropped = append(dropped, it)
				continue
			}
			seen[it.c.Addr] = true
		}
		kept = append(kept, it)
	}
	list = kept
	if !f.fixed && r.familyCount() > 0 {
		interleave(list, r.familyCount())
	}
	for i, it := range list {
		var prev *item
		if i > 0 {
			prev = list[i-1]
		}
		it.out.Reason = f.reason(prev, it)
	}
	return list, dropped
}

// interleave reorders the usable items of each precedence group (same
// tier and DRIAD precedence or SRV priority) so that, after count
// addresses of the first family, the families alternate (RFC 8305 §4,
// "First Address Family Count"). Unusable items stay where they are, last
// in their group.
func interleave(list []*item, count int) {
	for start := 0; start < len(list); {
		end := start
		for end < len(list) && sameGroup(list[start], list[end]) && list[end].out.Usable {
			end++
		}
		if end == start {
			start++
			continue
		}
		block := list[start:end]
		first := block[0].c.Addr.Addr().Unmap().Is4()
		var a, b []*item
		for _, it := range block {
			if it.c.Addr.Addr().Unmap().Is4() == first {
				a = append(a, it)
			} else {
				b = append(b, it)
			}
		}
		if len(b) > 0 {
			out := make([]*item, 0, len(block))
			n := min(count, len(a))
			out, a = append(out, a[:n]...), a[n:]
			for len(a) > 0 || len(b) > 0 {
				if len(b) > 0 {
					out, b = append(out, b[0]), b[1:]
				}
				if len(a) > 0 {
					out, a = append(out, a[0]), a[1:]
				}
			}
			for i, it := range out {
				if j := slices.Index(block, it); j > i {
					it.moved = true
				}
			}
			copy(block, out)
		}
		start = end
	}
}

func sameGroup(a, b *item) bool { return a.rank == b.rank && group(a.c) == group(b.c) }

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

// compareItems orders a before b (-1) or after (+1) by tier, group and
// RFC 6724, and says by what.
func compareItems(a, b *item) (int, stage, rule6724) {
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c, stageTier, rule6724{}
	}
	if c := cmp.Compare(group(a.c), group(b.c)); c != 0 {
		return c, stageGroup, rule6724{}
	}
	c, rule := compare6724(
		destination{addr: a.c.Addr.Addr(), src: a.out.Source, usable: a.out.Usable},
		destination{addr: b.c.Addr.Addr(), src: b.out.Source, usable: b.out.Usable},
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
func (f *feed) reason(prev, it *item) string {
	c := it.out
	if f.fixed {
		why := "in the order given to Connect"
		if !c.Usable {
			why += "; unusable: " + it.unusable
		}
		return why
	}
	st, cmpRes := stageTier, 0
	var rule rule6724
	if prev != nil {
		cmpRes, st, rule = compareItems(prev, it)
	}
	tierNote := "RFC 8777 §3.1.2"
	if f.r.customTierOrder() {
		tierNote = "configured tier order"
	}
	var why string
	switch {
	case prev == nil:
		why = fmt.Sprintf("%s is the first tier with candidates (%s)", c.Tier, tierNote)
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
	case cmpRes > 0:
		why = fmt.Sprintf("after %s by RFC 8305 §4 address family interleaving (first address family count %d)", label(prev.c), f.r.familyCount())
	case st == stage6724:
		why = fmt.Sprintf("after %s by RFC 6724 rule %d (%s)", label(prev.c), rule.rule, rule.why)
	default:
		why = fmt.Sprintf("tied with %s under RFC 6724 §6, pseudorandom order (RFC 8777 §3.1.2)", label(prev.c))
	}
	if it.moved {
		why += "; moved up by RFC 8305 §4 address family interleaving"
	}
	if !c.Usable {
		why += "; unusable (RFC 6724 rule 1): " + it.unusable
	} else if it.why != "" {
		why += "; " + it.why
	}
	return why
}
