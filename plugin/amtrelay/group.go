package amtrelay

import (
	"fmt"
	"net/netip"
	"sync/atomic"
)

// group is what one `source` directive configures: the relays that have
// multicast connectivity to its prefixes and the policy that chooses among
// them.
type group struct {
	// id numbers groups within a server block, for cache keys.
	id int
	// relays serve the group's prefixes, in Corefile order; none for a
	// source configured `none`.
	relays []*relay
	// spec is the policy as configured, and policy the group's own.
	spec   policySpec
	policy policy
	// locates is set when the policy ranks by the client's location: the
	// client is then located before ranking.
	locates bool
	// limit caps the number of relays in an answer: the source's or the
	// block's `answer`, else the policy's default.
	limit int
	pos   position
	// prefixes are the source line's prefixes, for logs.
	prefixes []netip.Prefix
	// beacon, if configured, says which relays reach the sources
	// (beacon.go).
	beacon *beacon

	// index finds the nearest relays; replaced when the GeoIP database
	// moves relays.
	index atomic.Pointer[nearIndex]
	// scopes widens ECS scopes (closest only; nil until built), and lists
	// holds the nearest relays at every location of the database
	// (closest and spill-over; nil until built).
	scopes atomic.Pointer[scopeTable]
	lists  atomic.Pointer[locationLists]
	// answered is the answers_total block this group counted in last
	// (querycounter.go).
	answered atomic.Pointer[countBlock]
}

// nearest returns up to k relays of the group that q may hand out,
// nearest the client first (see nearIndex.nearest).
func (q *query) nearest(k int) (ranked []near, home *relay, asIfAllUp bool) {
	if ll := q.group.lists.Load(); ll != nil && q.loc.place > 0 && q.loc.db == ll.db {
		if ranked, home, asIfAllUp, ok := ll.nearest(q, q.loc.place-1, k); ok {
			return ranked, home, asIfAllUp
		}
	}
	return q.group.index.Load().nearest(q, k)
}

// locateGroups builds the nearest-relay index of each group, from where
// the relays are now, off the query path: queries keep the old index
// until the new one is stored. Groups with the same relays share one.
func locateGroups(groups []*group) {
	built := map[string]*nearIndex{}
	for _, g := range groups {
		key := relayListKey(g.relays)
		ix := built[key]
		if ix == nil {
			ix = newNearIndex(g.relays)
			built[key] = ix
		}
		g.index.Store(ix)
	}
}

// relayListKey identifies a list of relays by the relays' identities.
func relayListKey(relays []*relay) string {
	b := make([]byte, 0, 8*len(relays))
	for _, r := range relays {
		b = fmt.Appendf(b, "%p,", r)
	}
	return string(b)
}
