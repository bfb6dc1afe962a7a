package amtrelay

import (
	"net/netip"
	"slices"
)

// prefixTable maps configured source prefixes to their groups, for
// longest-prefix match, and knows which reverse names are empty
// non-terminals above them.
type prefixTable struct {
	// byLen holds the prefixes of each length, per family; lens lists the
	// lengths in use, longest first.
	byLen4, byLen6 map[int]map[netip.Prefix]*group
	lens4, lens6   []int
	// above holds every octet- or nibble-aligned proper ancestor of a
	// configured prefix: names that exist only because names below do.
	above map[netip.Prefix]struct{}
}

func newPrefixTable() *prefixTable {
	return &prefixTable{
		byLen4: map[int]map[netip.Prefix]*group{},
		byLen6: map[int]map[netip.Prefix]*group{},
		above:  map[netip.Prefix]struct{}{},
	}
}

// add records p (already masked) for g. It reports false if p is already in
// the table.
func (t *prefixTable) add(p netip.Prefix, g *group) bool {
	byLen, lens := t.byLen6, &t.lens6
	if p.Addr().Is4() {
		byLen, lens = t.byLen4, &t.lens4
	}
	m := byLen[p.Bits()]
	if m == nil {
		m = map[netip.Prefix]*group{}
		byLen[p.Bits()] = m
		*lens = append(*lens, p.Bits())
		slices.SortFunc(*lens, func(a, b int) int { return b - a })
	}
	if _, dup := m[p]; dup {
		return false
	}
	m[p] = g
	step := labelBits(p.Addr())
	for bits := 0; bits < p.Bits(); bits += step {
		t.above[netip.PrefixFrom(p.Addr(), bits).Masked()] = struct{}{}
	}
	return true
}

// lookup returns the group of the longest configured prefix holding a, and
// that prefix.
func (t *prefixTable) lookup(a netip.Addr) (*group, netip.Prefix) {
	byLen, lens := t.byLen6, t.lens6
	if a.Is4() {
		byLen, lens = t.byLen4, t.lens4
	}
	for _, l := range lens {
		p := netip.PrefixFrom(a, l).Masked()
		if g, ok := byLen[l][p]; ok {
			return g, p
		}
	}
	return nil, netip.Prefix{}
}

// exists reports whether the reverse name for q (octet- or nibble-aligned)
// has names at or below it: q lies inside a configured prefix, or a
// configured prefix lies below q (an empty non-terminal).
func (t *prefixTable) exists(q netip.Prefix) bool {
	if _, ok := t.above[q]; ok {
		return true
	}
	byLen, lens := t.byLen6, t.lens6
	if q.Addr().Is4() {
		byLen, lens = t.byLen4, t.lens4
	}
	for _, l := range lens {
		if l > q.Bits() {
			continue
		}
		if _, ok := byLen[l][netip.PrefixFrom(q.Addr(), l).Masked()]; ok {
			return true
		}
	}
	return false
}
