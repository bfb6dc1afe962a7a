package amtrelay

import (
	"hash/maphash"
	"math"

	"github.com/coredns/coredns/plugin/pkg/cache"
)

// defaultRankCacheSize bounds the rankings kept per server block. Entries
// are keyed by group and client location (a GeoIP record), of which real
// databases hold about a hundred thousand.
const defaultRankCacheSize = 10000

// rankCache remembers distance orders per (group, client location), so
// that with thousands of relays a query does not scan them all. Entries
// carry the selector generation they were computed in; any change of relay
// health, drain, load or GeoIP database moves the generation on and so
// retires them.
type rankCache struct {
	entries *cache.Cache[*rankEntry]
	seed    maphash.Seed
}

type rankEntry struct {
	key        rankKey
	generation uint64
	ranked     []near
	home       *relay
}

// near is a relay and its great-circle distance from the client, NaN
// when the relay has no location. Keeping the distance with the relay
// spares a query from reading the relay's location again.
type near struct {
	relay *relay
	km    float64
}

// rankKey is what an order depends on besides the generation.
type rankKey struct {
	group        *group
	lat, lon     float64
	k            int
	policy       string
	ignoreHealth bool
	// step and snapshot narrow least-load's key to one load step of one
	// load snapshot.
	step     float64
	snapshot uint64
}

func newRankCache(size int) *rankCache {
	return &rankCache{entries: cache.New[*rankEntry](size), seed: maphash.MakeSeed()}
}

func (c *rankCache) hash(k rankKey) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	var b [8]byte
	for _, v := range []uint64{math.Float64bits(k.lat), math.Float64bits(k.lon), uint64(k.k), uint64(k.group.id), math.Float64bits(k.step), k.snapshot} {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	h.WriteString(k.policy)
	if k.ignoreHealth {
		h.WriteByte(1)
	}
	return h.Sum64()
}

// get returns the cached entry for k in generation gen, or computes and
// stores it.
func (c *rankCache) get(k rankKey, gen uint64, compute func() ([]near, *relay)) ([]near, *relay) {
	h := c.hash(k)
	if e, ok := c.entries.Get(h); ok && e.generation == gen && e.key == k {
		return e.ranked, e.home
	}
	ranked, home := compute()
	c.entries.Add(h, &rankEntry{key: k, generation: gen, ranked: ranked, home: home})
	return ranked, home
}

// key returns the cache key of the client's location for policy and k.
func (q *query) key(policy string, k int) rankKey {
	key := rankKey{group: q.group, k: k, policy: policy, ignoreHealth: q.ignoreHealth, lat: unknownCoordinate, lon: unknownCoordinate}
	if q.loc.known {
		key.lat, key.lon = q.loc.p.lat, q.loc.p.lon
	}
	return key
}

// unknownCoordinate stands for "no client location" in cache keys.
const unknownCoordinate = 1000

// nearest returns up to k relays of the group that q may hand out,
// nearest to the client first (ties in Corefile order), followed, if
// fewer than k have a location, by relays without one in Corefile order.
// home is the nearest relay that is not drained, whether up or down: the
// site the client would use if all were well. The client must have a
// location.
func (q *query) nearest(k int) (ranked []near, home *relay) {
	return q.sel.cache.get(q.key("nearest", k), q.sel.generation.Load(), func() ([]near, *relay) {
		return q.scanNearestIn(q.group.relays, q.group.places(), k)
	})
}

// place is where one relay of a list is, as a unit vector, with what a
// scan needs to know without reading the relay itself.
type place struct {
	x, y, z float64
	located bool
	drained bool
}

// placesOf lays out the locations of relays contiguously, in their order,
// so that a scan over thousands of relays reads 32 bytes per relay and
// follows no pointer until a relay is among the nearest.
func placesOf(relays []*relay) []place {
	out := make([]place, len(relays))
	for i, r := range relays {
		p, ok := r.location()
		out[i] = place{x: p.x, y: p.y, z: p.z, located: ok, drained: r.drained}
	}
	return out
}

// scanNearestIn is nearest without the cache, over relays (whose places
// are pl, in the same order): one pass, keeping the k nearest in a small
// sorted slice.
func (q *query) scanNearestIn(relays []*relay, pl []place, k int) ([]near, *relay) {
	if len(pl) != len(relays) {
		pl = placesOf(relays)
	}
	type candidate struct {
		i   int
		cos float64
	}
	best := make([]candidate, 0, k)
	home := -1
	homeCos := math.Inf(-1)
	c := q.loc.p
	for i := range pl {
		e := &pl[i]
		if !e.located {
			continue
		}
		cos := c.x*e.x + c.y*e.y + c.z*e.z
		if !e.drained && cos > homeCos {
			home, homeCos = i, cos
		}
		// Only a relay that would make the k nearest is read.
		if (len(best) == k && cos <= best[k-1].cos) || !q.eligible(relays[i]) {
			continue
		}
		j := len(best)
		if j < k {
			best = append(best, candidate{})
		} else {
			j = k - 1
		}
		for ; j > 0 && best[j-1].cos < cos; j-- {
			best[j] = best[j-1]
		}
		best[j] = candidate{i, cos}
	}
	out := make([]near, 0, k)
	for _, n := range best {
		p, _ := relays[n.i].location()
		out = append(out, near{relays[n.i], c.distanceKm(p)})
	}
	for i, r := range relays {
		if len(out) == k {
			break
		}
		if !pl[i].located && q.eligible(r) {
			out = append(out, near{r, math.NaN()})
		}
	}
	var homeRelay *relay
	if home >= 0 {
		homeRelay = relays[home]
	}
	return out, homeRelay
}
