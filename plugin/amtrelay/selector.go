package amtrelay

import (
	"sync/atomic"
	"time"
)

// selector is what the policies of one server block share (selectorState:
// the GeoIP database, the ranking cache, the generation of what rankings
// were computed from), as one query sees it: with that query's draw key,
// from which every tie-break and rotation is derived (draw.go). The
// block's own selector has the zero key; ServeDNS gives each query a view
// of its own (forQuery), which shares everything else.
type selector struct {
	*selectorState
	// key is the query's draw key; zero outside a query.
	key drawKey
}

// selectorState is the part of a selector that one server block shares.
type selectorState struct {
	geo   *geoDB
	cache *rankCache
	// maxLoadAge makes older load readings unknown (0: they never age).
	maxLoadAge time.Duration
	// bucket is how long a rotation or draw holds for a name before it
	// moves on: the answer TTL, so that every instance of a fleet moves
	// at the same moment (draw.go).
	bucket time.Duration
	// now is the clock of ServeDNS; tests set it.
	now func() time.Time
	// generation moves on whenever something a ranking was computed from
	// changes: a relay's health, a load reading, the GeoIP database. It
	// retires cached rankings and load orders; changed is the one way to
	// move it.
	generation atomic.Uint64
	// located watches how many clients of location policies the GeoIP
	// database places.
	located *locationWatch
}

func newSelector() *selector {
	return &selector{selectorState: &selectorState{cache: newRankCache(defaultRankCacheSize), bucket: defaultTTL * time.Second, now: time.Now, located: newLocationWatch()}}
}

// forQuery is the view of s for one query with key k.
func (s *selector) forQuery(k drawKey) *selector {
	return &selector{selectorState: s.selectorState, key: k}
}

// changed retires every ranking computed before it. The background
// workers call it, and only it, when what they watch changes.
func (s *selectorState) changed() { s.generation.Add(1) }
