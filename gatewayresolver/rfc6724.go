package gatewayresolver

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
)

// Source is what RFC 6724 §6 needs to know about the source address a host
// would use for one destination (RFC 6724 §5 picks it). The kernel reports
// only the address; the flags serve Rules 3, 4 and 7 when a caller knows
// them, and default to "no", which makes those rules ties.
type Source struct {
	// Addr is the source address. Invalid means there is none: the
	// destination is unusable (Rule 1).
	Addr netip.Addr
	// PrefixLen is the on-link prefix length of Addr, which caps
	// CommonPrefixLen (RFC 6724 §2.2). 0 means unknown: 64 is used for
	// IPv6 and 32 for IPv4.
	PrefixLen int
	// Deprecated marks a deprecated address (Rule 3).
	Deprecated bool
	// Home and CareOf mark Mobile IPv6 home and care-of addresses (Rule 4).
	Home, CareOf bool
	// Encapsulated means the destination is reached through an
	// encapsulating transition mechanism, such as IPv6 in IPv4 (Rule 7).
	Encapsulated bool
}

// SourceFunc returns the source address the host would use to send to dst,
// or an error when dst is unreachable.
type SourceFunc func(dst netip.Addr) (Source, error)

// policyEntry is a row of the RFC 6724 §2.1 default policy table.
type policyEntry struct {
	prefix     netip.Prefix
	precedence int
	label      int
}

// policyTable is the default policy table of RFC 6724 §2.1, longest prefix
// first so the first match is the longest.
var policyTable = []policyEntry{
	{netip.MustParsePrefix("::1/128"), 50, 0},
	{netip.MustParsePrefix("::ffff:0:0/96"), 35, 4},
	{netip.MustParsePrefix("::/96"), 1, 3},
	{netip.MustParsePrefix("2001::/32"), 5, 5},
	{netip.MustParsePrefix("2002::/16"), 30, 2},
	{netip.MustParsePrefix("3ffe::/16"), 1, 12},
	{netip.MustParsePrefix("fec0::/10"), 1, 11},
	{netip.MustParsePrefix("fc00::/7"), 3, 13},
	{netip.MustParsePrefix("::/0"), 40, 1},
}

// policy returns the policy table row for a; IPv4 is looked up as
// IPv4-mapped IPv6 (RFC 6724 §3.2).
func policy(a netip.Addr) policyEntry {
	a16 := netip.AddrFrom16(a.As16())
	for _, p := range policyTable {
		if p.prefix.Contains(a16) {
			return p
		}
	}
	return policyTable[len(policyTable)-1]
}

// Scope values of RFC 4291 §2.7 used by RFC 6724 §3.1.
const (
	scopeLinkLocal = 0x2
	scopeSiteLocal = 0x5
	scopeGlobal    = 0xe
)

var (
	siteLocal6 = netip.MustParsePrefix("fec0::/10")
)

// scope returns Scope(a) (RFC 6724 §3.1, §3.2): IPv4 loopback and
// 169.254/16 are link-local, other IPv4 global; IPv6 loopback counts as
// link-local.
func scope(a netip.Addr) int {
	a = a.Unmap()
	switch {
	case a.Is4():
		if a.IsLoopback() || a.IsLinkLocalUnicast() {
			return scopeLinkLocal
		}
		return scopeGlobal
	case a.IsMulticast():
		return int(a.As16()[1] & 0x0f)
	case a.IsLoopback(), a.IsLinkLocalUnicast():
		return scopeLinkLocal
	case siteLocal6.Contains(a):
		return scopeSiteLocal
	}
	return scopeGlobal
}

// commonPrefixLen is CommonPrefixLen(S, D) of RFC 6724 §2.2: the bits S and
// D share, up to S's prefix length. Addresses of different families share
// none.
func commonPrefixLen(src Source, dst netip.Addr) int {
	s, d := src.Addr.Unmap(), dst.Unmap()
	if !s.IsValid() || s.Is4() != d.Is4() {
		return 0
	}
	limit := 64
	if s.Is4() {
		limit = 32
	}
	a, b := s.AsSlice(), d.AsSlice()
	n := 0
	for i := range a {
		x := a[i] ^ b[i]
		n += bits.LeadingZeros8(x)
		if x != 0 {
			break
		}
	}
	if src.PrefixLen > 0 {
		limit = src.PrefixLen
	}
	return min(n, limit)
}

// destination is one address being sorted, with its source.
type destination struct {
	addr   netip.Addr
	src    Source
	usable bool
}

// rule6724 is the outcome of comparing two destinations.
type rule6724 struct {
	rule int    // 1-9 that decided, 0 for a tie
	why  string // what the rule saw, in words
}

// compare6724 applies the destination address selection rules of RFC 6724
// §6 to a and b: it returns -1 when a goes first, +1 when b does, and 0
// when Rules 1-9 tie (Rule 10 keeps the order).
func compare6724(a, b destination) (int, rule6724) {
	prefer := func(aWins bool, rule int, why string) (int, rule6724) {
		if aWins {
			return -1, rule6724{rule, why}
		}
		return 1, rule6724{rule, why}
	}
	// Rule 1: avoid unusable destinations.
	if a.usable != b.usable {
		return prefer(a.usable, 1, "avoid unusable destinations")
	}
	if !a.usable {
		return 0, rule6724{}
	}
	// Rule 2: prefer matching scope.
	am, bm := scope(a.addr) == scope(a.src.Addr), scope(b.addr) == scope(b.src.Addr)
	if am != bm {
		return prefer(am, 2, "prefer matching scope")
	}
	// Rule 3: avoid deprecated addresses.
	if a.src.Deprecated != b.src.Deprecated {
		return prefer(!a.src.Deprecated, 3, "avoid deprecated source addresses")
	}
	// Rule 4: prefer home addresses.
	aBoth, bBoth := a.src.Home && a.src.CareOf, b.src.Home && b.src.CareOf
	if aBoth != bBoth {
		return prefer(aBoth, 4, "prefer home addresses")
	}
	aHome, bHome := a.src.Home && !a.src.CareOf, b.src.Home && !b.src.CareOf
	aCare, bCare := a.src.CareOf && !a.src.Home, b.src.CareOf && !b.src.Home
	if aHome && bCare || bHome && aCare {
		return prefer(aHome, 4, "prefer home addresses")
	}
	// Rule 5: prefer matching label.
	al, bl := policy(a.src.Addr).label == policy(a.addr).label, policy(b.src.Addr).label == policy(b.addr).label
	if al != bl {
		return prefer(al, 5, "prefer matching label")
	}
	// Rule 6: prefer higher precedence.
	if ap, bp := policy(a.addr).precedence, policy(b.addr).precedence; ap != bp {
		return prefer(ap > bp, 6, fmt.Sprintf("prefer higher precedence, %d vs %d", max(ap, bp), min(ap, bp)))
	}
	// Rule 7: prefer native transport.
	if a.src.Encapsulated != b.src.Encapsulated {
		return prefer(!a.src.Encapsulated, 7, "prefer native transport")
	}
	// Rule 8: prefer smaller scope.
	if as, bs := scope(a.addr), scope(b.addr); as != bs {
		return prefer(as < bs, 8, "prefer smaller scope")
	}
	// Rule 9: use longest matching prefix, within one family.
	if a.addr.Unmap().Is4() == b.addr.Unmap().Is4() {
		if ac, bc := commonPrefixLen(a.src, a.addr), commonPrefixLen(b.src, b.addr); ac != bc {
			return prefer(ac > bc, 9, fmt.Sprintf("use longest matching prefix, %d vs %d bits", max(ac, bc), min(ac, bc)))
		}
	}
	// Rule 10: leave the order unchanged.
	return 0, rule6724{}
}

// sortDestinations sorts addresses by the destination address selection
// of RFC 6724 §6, asking sourceFor (nil: DefaultSourceFor) for each source;
// a destination without a source is unusable and goes last. The sort is
// stable (Rule 10).
func sortDestinations(dsts []netip.Addr, sourceFor SourceFunc) []netip.Addr {
	if sourceFor == nil {
		sourceFor = DefaultSourceFor
	}
	ds := make([]destination, len(dsts))
	for i, d := range dsts {
		src, err := sourceFor(d)
		ds[i] = destination{addr: d, src: src, usable: err == nil && src.Addr.IsValid()}
	}
	slices.SortStableFunc(ds, func(a, b destination) int {
		c, _ := compare6724(a, b)
		return c
	})
	out := make([]netip.Addr, len(ds))
	for i, d := range ds {
		out[i] = d.addr
	}
	return out
}
