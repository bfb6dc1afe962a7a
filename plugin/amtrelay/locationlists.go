package amtrelay

import (
	"math"
	"runtime"
)

// Precomputed nearest relays, as gdnsd compiles its datacenter lists: when
// a GeoIP database loads, every distinct location in it gets, for each
// list of relays that a distance policy ranks, its nearest relays as if
// all were up. A query then finds its client's location by the database
// record the lookup landed on (no decoding) and walks that short list,
// reading health, drain and path at answer time, instead of searching a
// tree whose nodes lie all over memory: with 10,000 relays and clients
// from everywhere, the search was a query's largest cost (cache misses,
// by a CPU profile under dnsperf). A relay changing state does not touch
// the lists; when more relays of a list are out than it is long, the
// query falls back to the tree.

// dbPlaces is where a database puts its clients: each data record's
// location, numbered.
type dbPlaces struct {
	// byRecord maps a data record (its offset) to its location's number,
	// -1 for a record without coordinates.
	byRecord map[uintptr]int32
	points   []alignedPoint
	// networks finds an address's network and location without the
	// search tree (networkindex.go); nil when the database's networks
	// could not be indexed.
	networks *networkIndex
	size     dbPlacesSize
}

// dbPlacesSize is how many networks, locations and data records a
// database has: what a later dbNetworks of the same database sizes its
// tables by.
type dbPlacesSize struct{ networks, points, records int }

// locationLists are the nearest relays of one relay list (a nearIndex)
// at every location of one database, nearest first, as if all were up:
// k a location, relay -1 past the end of a shorter list. Each list
// starts stride entries after the one before (rowStride), so that no
// list spans more cache lines than it must.
type locationLists struct {
	db     *geoReader
	index  *nearIndex
	k      int
	stride int
	lists  []listEntry
}

// listEntry is one relay of a location's list: its number in the
// nearIndex and its distance from the location in whole kilometres. The
// location is where the database puts every client of it, so the
// distance is the client's, and an answer walks the list without reading
// the client's point or computing a distance: one cache line fewer a
// query.
type listEntry struct {
	relay int32
	km    int32
}

// entriesPerLine is how many list entries a cache line holds.
const entriesPerLine = 8

// rowStride is how far apart lists of k entries lie: k rounded up to a
// power of two up to entriesPerLine (64 octets, a cache line), and to a
// multiple of it beyond. A large array starts on a page, so each list
// then starts on a boundary of its own size, and a list of up to 8
// relays is read in one line, where 7 entries packed side by side (56
// octets) straddle two lines 7 times in 8.
func rowStride(k int) int {
	if k > entriesPerLine {
		return (k + entriesPerLine - 1) / entriesPerLine * entriesPerLine
	}
	s := 1
	for s < k {
		s *= 2
	}
	return s
}

// listMargin is how many relays a list holds beyond what its answers
// take, so that a few relays down do not send queries to the tree.
const listMargin = 4

// buildLocationLists computes the lists of ix at every place, k long.
func buildLocationLists(db *geoReader, ix *nearIndex, places []alignedPoint, k int) *locationLists {
	stride := rowStride(k)
	ll := &locationLists{db: db, index: ix, k: k, stride: stride, lists: make([]listEntry, len(places)*stride)}
	position := make(map[*relay]int32, len(ix.relays))
	for i, r := range ix.relays {
		position[r] = int32(i)
	}
	var room scratch // what each ranking returns, used before the next
	for i, p := range places {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		q := query{loc: location{known: true, p: p.point}, assumeUp: true, scratch: &room}
		ranked, _, _ := ix.nearest(&q, k)
		row := ll.lists[i*stride : i*stride+k]
		for j := range row {
			row[j] = listEntry{relay: -1}
		}
		for j, n := range ranked {
			if _, located := n.relay.location(); located {
				row[j] = listEntry{relay: position[n.relay], km: int32(n.km)}
			}
		}
	}
	return ll
}

// nearest is nearIndex.nearest for a client at location id of ll's
// database, from its list; ok is false when the list cannot tell (too
// many of its relays out, or a fail-open ranking, which also lists
// drained relays), and the tree must.
func (ll *locationLists) nearest(q *query, id int32, k int) (ranked []near, home *relay, asIfAllUp, ok bool) {
	if q.ignoreHealth || k > ll.k {
		return nil, nil, false, false
	}
	ix := ll.index
	row := ll.lists[int(id)*ll.stride : int(id)*ll.stride+ll.k]
	asIfAllUp = true
	full := row[ll.k-1].relay >= 0 // the list may have been cut short
	for _, e := range row {
		if e.relay < 0 || len(ranked) == k {
			break
		}
		pl := &ix.pl[e.relay]
		if home == nil {
			home = pl.relay // the lists leave drained relays out
		}
		if !q.eligibleAs(pl.relay, pl.drained, pl.down) {
			asIfAllUp = false
			continue
		}
		if ranked == nil {
			ranked = q.nearBuf(k)
		}
		ranked = append(ranked, near{pl.relay, float64(e.km), pl})
	}
	if len(ranked) < k && full {
		return nil, nil, false, false
	}
	if len(ranked) < k {
		// Every located relay that may be listed is: relays without a
		// location follow, as in the tree's answer.
		for _, i := range ix.unlocated {
			if len(ranked) == k {
				break
			}
			pl := &ix.pl[i]
			if q.eligibleAs(pl.relay, pl.drained, pl.down) {
				ranked = append(ranked, near{pl.relay, math.NaN(), pl})
			} else if !pl.drained {
				asIfAllUp = false
			}
		}
	}
	return ranked, home, asIfAllUp, true
}
