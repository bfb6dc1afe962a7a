package amtrelay

// Ready implements the ready plugin's Readiness. The plugin is ready once
// every background worker has finished its first round: the first health
// probe round, the first read of every load source. Without them it is
// ready at once.
//
// With `readiness strict` it is also not ready while it has nothing to
// offer: every relay is down or drained, or a policy that ranks by
// location has no GeoIP database (none has loaded yet). A relay without a
// path to one beacon's source still counts: readiness answers for every
// source at once, and a beacon that stops at its source takes every
// relay's path alike. In the seeds'
// design every network's AMT DNS shares one anycast address; a routing
// daemon or orchestrator that follows readiness then withdraws the
// instance, and gateways reach another network's. The ready plugin must
// be told to keep asking (`monitor continuously`): by default it stops
// once a plugin has said ready.
func (a *AMTRelay) Ready() bool {
	if !a.workers.ready() {
		return false
	}
	return !a.strictReady || (a.someRelayUp() && a.locationsKnown())
}

// someRelayUp reports whether some relay may be handed out, or the block
// has no relays at all (only `none` sources).
func (a *AMTRelay) someRelayUp() bool {
	for _, r := range a.relays {
		if r.eligible() {
			return true
		}
	}
	return len(a.relays) == 0
}

// locationsKnown reports whether every policy that ranks by location has
// a GeoIP database to do it with.
func (a *AMTRelay) locationsKnown() bool {
	for _, g := range a.groups {
		if g.locates && a.sel.geo.reader() == nil {
			return false
		}
	}
	return true
}
