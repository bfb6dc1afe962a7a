package amtrelay

import "sync/atomic"

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

	// placed holds the relays' places for distance scans; replaced when
	// the GeoIP database moves relays.
	placed atomic.Pointer[[]place]
}

// places returns where the group's relays are, in group order.
func (g *group) places() []place {
	if p := g.placed.Load(); p != nil {
		return *p
	}
	return nil
}

// locate records where the group's relays are now.
func (g *group) locate() {
	p := placesOf(g.relays)
	g.placed.Store(&p)
}
