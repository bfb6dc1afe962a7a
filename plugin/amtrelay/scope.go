package amtrelay

import (
	"cmp"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"time"
)

// scopeTable widens the ECS scope of a source's distance answers (RFC 7871
// §7.2.1) beyond the GeoIP network that placed the client: to the widest
// prefix whose every address is in a database network whose clients get
// the same ranking when all relays are up. gdnsd does the same: it merges
// adjacent networks with the same list of datacenters. A resolver then
// caches one answer for the whole prefix instead of one per network.
//
// The widened scope is used only when the answer is that all-up ranking
// (no relay of it is down), which is the same for every address in the
// prefix; otherwise the answer holds for the client's network only. It is
// built from the whole database, off the query path, whenever the
// database or the relays' places change.
type scopeTable struct {
	// wide are the merged prefixes wider than the database networks in
	// them, in address order (IPv4 before IPv6).
	wide []netip.Prefix
	// db is the database they were built from: a client placed by another
	// (a reload in progress) keeps its own network.
	db *geoReader
	// bits is, for each of the database's networks (numbered as
	// location.number counts them), the length of the merged prefix that
	// holds it, or its own: what widen finds without a search.
	bits []uint8
}

// widen returns the merged prefix that holds the client's network, or
// that network.
func (t *scopeTable) widen(loc location) netip.Prefix {
	network := loc.network
	if t == nil || !network.IsValid() || loc.db != t.db {
		return network
	}
	// The merged length: from the index's entry when it holds t's,
	// else by network number, else by search (below).
	bits := -1
	switch {
	case loc.scopes == t:
		bits = int(loc.scopeBits)
	case loc.number > 0 && int(loc.number) <= len(t.bits):
		bits = int(t.bits[loc.number-1])
	}
	if bits >= 0 {
		if bits < network.Bits() {
			wide, _ := network.Addr().Prefix(bits)
			return wide
		}
		return network
	}
	a := network.Addr()
	// The last merged prefix that starts at or before a.
	i, found := slices.BinarySearchFunc(t.wide, a, func(p netip.Prefix, a netip.Addr) int { return p.Addr().Compare(a) })
	if !found {
		i--
	}
	if i >= 0 && t.wide[i].Contains(a) && t.wide[i].Bits() < network.Bits() {
		return t.wide[i]
	}
	return network
}

// dbNetwork is one network of the GeoIP database and where it places its
// clients: an index into the database's distinct locations, or -1.
type dbNetwork struct {
	prefix   netip.Prefix
	location int32
}

// dbNetworks reads every network of db with its location, in address
// order, and the distinct locations. A record many networks point to (a
// commercial City database has millions of networks and about a hundred
// thousand records) is decoded once. The loop yields now and then
// (yieldEvery).
func dbNetworks(db *geoReader) ([]dbNetwork, *dbPlaces) {
	// A database built before (a reload that shares it) tells the sizes:
	// growing them by appending was half of a reload's garbage, which the
	// collector marks while the old configuration answers.
	var size dbPlacesSize
	if pl := db.places.Load(); pl != nil {
		size = pl.size
	}
	nets := make([]dbNetwork, 0, size.networks)
	places := make([]alignedPoint, 0, size.points)
	ids := make(map[point]int32, size.points)
	byRecord := make(map[uintptr]int32, size.records)
	for res := range db.mmdb.Networks() {
		if res.Err() != nil {
			continue
		}
		if len(nets)%yieldEvery == 0 {
			runtime.Gosched()
		}
		n := dbNetwork{prefix: res.Prefix(), location: -1}
		if id, ok := byRecord[res.Offset()]; ok {
			n.location = id
			nets = append(nets, n)
			continue
		}
		var rec cityCoordinates
		rec.Location.Latitude, rec.Location.Longitude = math.NaN(), math.NaN()
		if res.Decode(&rec) == nil {
			if p, err := newPoint(rec.Location.Latitude, rec.Location.Longitude); err == nil {
				id, ok := ids[p]
				if !ok {
					id = int32(len(places))
					ids[p] = id
					places = append(places, alignedPoint{point: p})
				}
				n.location = id
			}
		}
		byRecord[res.Offset()] = n.location
		nets = append(nets, n)
	}
	size = dbPlacesSize{networks: len(nets), points: len(places), records: len(byRecord)}
	return nets, &dbPlaces{byRecord: byRecord, points: places, networks: newNetworkIndex(nets), size: size}
}

// buildScopes numbers the database's locations, then builds the nearest
// relay lists (locationlists.go) of every source ranked by distance
// (closest, spill-over) and the scope table of every source whose policy
// widens scopes (closest), sharing lists and tables among sources with the
// same relays and answer size. It logs how long that took.
func (a *AMTRelay) buildScopes(db *geoReader) {
	var wanted []*group
	for _, g := range a.groups {
		if listLength(g) > 0 {
			wanted = append(wanted, g)
		}
	}
	if len(wanted) == 0 {
		return
	}
	start := time.Now()
	nets, places := dbNetworks(db)
	// Stored once the index holds a scope table's lengths: queries read
	// it without a lock.
	defer db.places.Store(places)
	lists := map[string]*locationLists{}
	tables := map[string]*scopeTable{}
	for _, g := range wanted {
		key := relayListKey(g.relays) + string(rune(listLength(g)))
		ll := lists[key]
		if ll == nil {
			ll = buildLocationLists(db, g.index.Load(), places.points, listLength(g))
			lists[key] = ll
		}
		g.lists.Store(ll)
		if _, ok := g.policy.(closestPolicy); !ok {
			continue
		}
		key = relayListKey(g.relays) + string(rune(g.limit))
		t := tables[key]
		if t == nil {
			t = mergeNetworks(nets, rankingIDs(g, places.points))
			t.db = db
			t.bits = mergedBits(nets, t.wide)
			tables[key] = t
			if places.networks != nil && places.networks.scopes == nil {
				places.networks.holdScopes(t)
			}
		}
		g.scopes.Store(t)
	}
	log.Infof("nearest relay lists and ECS scopes of %d networks over %d locations built in %s", len(nets), len(places.points), time.Since(start).Round(time.Millisecond))
}

// listLength is how long the precomputed lists of g are: what its policy
// asks nearest for, and a margin; 0 for policies that rank otherwise.
func listLength(g *group) int {
	switch p := g.policy.(type) {
	case closestPolicy:
		return g.limit + listMargin
	case spillOverPolicy:
		return g.limit + p.spread + listMargin
	}
	return 0
}

// yieldEvery is how many items a long build loop handles between yields
// to the scheduler (runtime.Gosched), well under a millisecond's work. On
// a server with one P (one CPU), the scheduler polls the network while a
// goroutine computes only from sysmon, every 10 ms; the queries it finds
// run at the next yield, not at the next preemption (every 10 ms too), so
// a query waits up to about 10 ms during a build, not 20. Sleeping
// instead, so that the idle P polls at once, was measured: no fewer
// queries over 10 ms during a reload (those come from caddy's parse of
// the Corefile, which yields to nothing), and a third longer builds when
// idle (test/bench/README.md).
const yieldEvery = 256

// rankingIDs numbers the all-up rankings of g at each location: locations
// with the same number get the same answer (relays and precedences).
func rankingIDs(g *group, places []alignedPoint) []int32 {
	index := map[*relay]int{}
	for i, r := range g.relays {
		index[r] = i
	}
	ids := make([]int32, len(places))
	seen := map[string]int32{}
	var key []byte
	var room scratch // what each ranking returns, used before the next
	q := new(query)  // one for all: a query passed to a policy escapes
	for i, p := range places {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		*q = query{group: g, loc: location{known: true, p: p.point}, assumeUp: true, scratch: &room}
		rk := g.policy.rank(q)
		key = key[:0]
		for _, c := range rk.chosen {
			key = append(key, byte(index[c.relay]>>16), byte(index[c.relay]>>8), byte(index[c.relay]), c.precedence)
		}
		id, ok := seen[string(key)]
		if !ok {
			id = int32(len(seen))
			seen[string(key)] = id
		}
		ids[i] = id
	}
	return ids
}

// mergeNetworks merges sibling prefixes whose clients get the same ranking
// (rankings[location]), bottom up, as far as they go, and returns the
// merged prefixes. nets is in address order. Addresses outside the
// database, and networks without a location, merge with nothing.
func mergeNetworks(nets []dbNetwork, rankings []int32) *scopeTable {
	type span struct {
		prefix  netip.Prefix
		ranking int32
		merged  bool
	}
	t := &scopeTable{}
	var stack []span
	emit := func(s span) {
		if s.merged {
			t.wide = append(t.wide, s.prefix)
		}
	}
	for _, n := range nets {
		r := int32(-1)
		if n.location >= 0 {
			r = rankings[n.location]
		}
		// Spans that n cannot complete are final.
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if sib, ok := rightSibling(top.prefix); ok && sib.Contains(n.prefix.Addr()) {
				break
			}
			emit(top)
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, span{prefix: n.prefix, ranking: r})
		for len(stack) >= 2 {
			left, right := stack[len(stack)-2], stack[len(stack)-1]
			sib, ok := rightSibling(left.prefix)
			if !ok || left.ranking < 0 || left.ranking != right.ranking || sib != right.prefix {
				break
			}
			parent, _ := left.prefix.Addr().Prefix(left.prefix.Bits() - 1)
			stack = append(stack[:len(stack)-2], span{prefix: parent, ranking: left.ranking, merged: true})
		}
	}
	for _, s := range stack {
		emit(s)
	}
	slices.SortFunc(t.wide, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	return t
}

// mergedBits is, for each of nets, the length of the prefix of wide that
// holds it, or its own length. Both are in address order, and the
// prefixes of wide do not overlap.
func mergedBits(nets []dbNetwork, wide []netip.Prefix) []uint8 {
	bits := make([]uint8, len(nets))
	j := 0
	for i, n := range nets {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		a := n.prefix.Addr()
		for j < len(wide) && lastAddr(wide[j]).Less(a) {
			j++
		}
		bits[i] = uint8(n.prefix.Bits())
		if j < len(wide) && wide[j].Contains(a) && wide[j].Bits() < n.prefix.Bits() {
			bits[i] = uint8(wide[j].Bits())
		}
	}
	return bits
}

// rightSibling is the prefix that p merges with into their parent, when p
// is the parent's left (lower) half.
func rightSibling(p netip.Prefix) (netip.Prefix, bool) {
	if p.Bits() == 0 {
		return netip.Prefix{}, false
	}
	parent, _ := p.Addr().Prefix(p.Bits() - 1)
	if parent.Addr() != p.Addr() {
		return netip.Prefix{}, false // p is the right half
	}
	end := lastAddr(p)
	next := end.Next()
	if !next.IsValid() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(next, p.Bits()), true
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		a := p.Addr().As4()
		for i := p.Bits(); i < 32; i++ {
			a[i/8] |= 0x80 >> (i % 8)
		}
		return netip.AddrFrom4(a)
	}
	a := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(a)
}
