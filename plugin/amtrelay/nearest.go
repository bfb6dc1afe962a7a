package amtrelay

import (
	"math"

	"gonum.org/v1/gonum/spatial/kdtree"
)

// nearIndex finds the relays of one list nearest a client, at a cost that
// grows with the logarithm of the list's length, not with the length,
// and that does not depend on having seen the client before: there is no
// cache to miss. It holds only where the relays are. Health, drain and
// load are read when a query walks the index, so a relay changing state
// does not invalidate it; it is rebuilt (off the query path, then
// swapped in) only when relays move: at startup, on a GeoIP reload, or
// when a load order is rebuilt (policy least-load).
//
// Relays at one point form a site, the k-d tree's element (gonum's
// spatial/kdtree, over unit vectors in 3-D: the nearest by chord is the
// nearest on the sphere). Lists of up to scanLimit relays are scanned
// instead: for them a scan is faster than a tree.
type nearIndex struct {
	relays []*relay
	// pl is what answers read of each relay, in list order; v is where
	// each relay is, as a unit vector (zero without a location).
	pl []place
	v  [][3]float64
	// tree holds the sites; nil when the list is scanned.
	tree *kdtree.Tree
	// unlocated are the indices of relays with no location, in order.
	unlocated []int
}

// scanLimit is the longest list scanned rather than searched in a tree.
const scanLimit = 32

// near is a relay and its great-circle distance from the client in whole
// kilometres (what distance policies rank by), NaN when the relay has no
// location, and its place in the list.
type near struct {
	relay  *relay
	km     float64
	listed *place
}

// place is one relay of a list: what a search and an answer need to know
// without reading the relay itself (its down flag, its RDATA, its number
// in answers_total) and the relay, in one cache line: with 10,000 relays
// and clients from everywhere, each relay read was a cache miss on top of
// its place's, and so was each read of the list's array of relays. Where
// the relay is lies in the index's v: only searches read it, and answers
// from a location's list do not. TestPlaceLine checks the size.
type place struct {
	relay    *relay
	down     downFlag
	answerID int32
	tail     rdataTail
	located  bool
	drained  bool
	_        [8]byte
}

// newNearIndex lays out where relays are. Relays at exactly the same
// point share a site, so ties between them keep list order.
func newNearIndex(relays []*relay) *nearIndex {
	ix := &nearIndex{relays: relays, pl: make([]place, len(relays)), v: make([][3]float64, len(relays))}
	bySite := map[[3]float64]*site{}
	var sites siteList
	for i, r := range relays {
		p, ok := r.location()
		ix.pl[i] = place{relay: r, down: r.down, answerID: r.answerID, tail: r.tail, located: ok, drained: r.drained}
		if !ok {
			ix.unlocated = append(ix.unlocated, i)
			continue
		}
		ix.v[i] = [3]float64{p.x, p.y, p.z}
		s := bySite[ix.v[i]]
		if s == nil {
			s = &site{v: ix.v[i]}
			bySite[s.v] = s
			sites = append(sites, s)
		}
		s.members = append(s.members, i)
	}
	if len(relays)-len(ix.unlocated) > scanLimit {
		ix.tree = kdtree.New(sites, false)
	}
	return ix
}

// nearest returns up to k relays that q may hand out, nearest to the
// client first, ties in list order, followed, if fewer than k have a
// location, by relays without one in list order. home is the nearest
// relay that is not drained, whether up or down: the site the client
// would use if all were well (nil if none has a location). asIfAllUp
// reports that the answer is the one all relays up would give: no relay
// that is down was passed over for it. The client must have a location.
func (ix *nearIndex) nearest(q *query, k int) (ranked []near, home *relay, asIfAllUp bool) {
	var buf [16]nearEntry
	best := buf[:0]
	if k > len(buf) {
		best = make([]nearEntry, 0, k)
	}
	set := nearSet{k: k, best: best, home: -1, homeD2: math.Inf(1), ix: ix, q: q, passed: nearEntry{math.MaxInt, math.Inf(1)}}
	c := q.loc.point()
	client := [3]float64{c.x, c.y, c.z}
	if ix.tree == nil {
		for i := range ix.pl {
			if ix.pl[i].located {
				set.offer(i, chord2(client, ix.v[i]))
			}
		}
	} else {
		set.search(ix.tree.Root, client)
	}
	out := q.nearBuf(k)
	for _, e := range set.best {
		out = append(out, near{ix.pl[e.i].relay, math.Round(kmFromChord2(e.d2)), &ix.pl[e.i]})
	}
	// Fail-open answers (ignoreHealth) list drained relays too: never the
	// all-up answer.
	asIfAllUp = !q.ignoreHealth && (set.passed.i == math.MaxInt || (k > 0 && len(set.best) == k && !set.passed.before(set.best[k-1])))
	for _, i := range ix.unlocated {
		if len(out) == k {
			break
		}
		pl := &ix.pl[i]
		if q.eligibleAs(pl.relay, pl.drained, pl.down) {
			out = append(out, near{pl.relay, math.NaN(), pl})
		} else if !pl.drained {
			asIfAllUp = false
		}
	}
	if set.home >= 0 {
		home = ix.relays[set.home]
	}
	return out, home, asIfAllUp
}

// nearSet keeps the k best relays a search has offered, in order, in
// best, whose capacity is at least k.
type nearSet struct {
	k      int
	best   []nearEntry
	home   int
	homeD2 float64
	ix     *nearIndex
	q      *query
	// passed is the nearest relay left out for being down.
	passed nearEntry
}

// nearEntry is relay i of the list at squared chord d2 from the client.
type nearEntry struct {
	i  int
	d2 float64
}

// before orders entries by distance, then list order.
func (e nearEntry) before(f nearEntry) bool { return e.d2 < f.d2 || (e.d2 == f.d2 && e.i < f.i) }

// bound is the squared distance beyond which nothing can enter the set.
func (s *nearSet) bound() float64 {
	if len(s.best) < s.k || s.k == 0 {
		return math.Inf(1)
	}
	return s.best[s.k-1].d2
}

// offer considers relay i at squared chord d2.
func (s *nearSet) offer(i int, d2 float64) {
	e := nearEntry{i, d2}
	if !s.ix.pl[i].drained && e.before(nearEntry{s.home, s.homeD2}) {
		s.home, s.homeD2 = i, d2
	}
	if s.k == 0 || (len(s.best) == s.k && !e.before(s.best[s.k-1])) {
		return
	}
	if pl := &s.ix.pl[i]; !s.q.eligibleAs(pl.relay, pl.drained, pl.down) {
		if !pl.drained && e.before(s.passed) {
			s.passed = e
		}
		return
	}
	j := len(s.best)
	if j < s.k {
		s.best = s.best[:j+1] // within its capacity, k
	} else {
		j = s.k - 1
	}
	for ; j > 0 && e.before(s.best[j-1]); j-- {
		s.best[j] = s.best[j-1]
	}
	s.best[j] = e
}

// search walks the tree from root, nearest side first, entering the far
// side of a splitting plane only when something there can still enter the
// set (at equal distance too, so that ties keep list order). It keeps its
// own stack of far sides, so that nothing of a query escapes to the heap.
func (s *nearSet) search(root *kdtree.Node, client [3]float64) {
	type farSide struct {
		n *kdtree.Node
		// d2 is the squared distance from the client to its plane.
		d2 float64
	}
	var buf [64]farSide
	stack := append(buf[:0], farSide{root, 0})
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.d2 > s.bound() {
			continue
		}
		for n := f.n; n != nil; {
			st := n.Point.(*site)
			d2 := chord2(client, st.v)
			for _, i := range st.members {
				s.offer(i, d2)
			}
			diff := client[n.Plane] - st.v[n.Plane]
			near, far := n.Left, n.Right
			if diff > 0 {
				near, far = far, near
			}
			if far != nil {
				stack = append(stack, farSide{far, diff * diff})
			}
			n = near
		}
	}
}

// chord2 is the squared chord between two unit vectors: it orders points
// by great-circle distance.
func chord2(a, b [3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dx*dx + dy*dy + dz*dz
}

// kmFromChord2 is the great-circle distance of a squared chord between
// unit vectors.
func kmFromChord2(d2 float64) float64 {
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(d2)/2))
}

// site is the relays of a list at one point: an element of the k-d tree.
type site struct {
	v       [3]float64
	members []int // relay indices, ascending
}

// Compare, Dims and Distance make a site a kdtree.Comparable.
func (s *site) Compare(c kdtree.Comparable, d kdtree.Dim) float64 { return s.v[d] - c.(*site).v[d] }
func (s *site) Dims() int                                         { return 3 }
func (s *site) Distance(c kdtree.Comparable) float64              { return chord2(s.v, c.(*site).v) }

// siteList is what kdtree.New builds a tree from.
type siteList []*site

func (l siteList) Index(i int) kdtree.Comparable         { return l[i] }
func (l siteList) Len() int                              { return len(l) }
func (l siteList) Slice(start, end int) kdtree.Interface { return l[start:end] }
func (l siteList) Pivot(d kdtree.Dim) int {
	p := sitePlane{l, d}
	return kdtree.Partition(p, kdtree.MedianOfMedians(p))
}

// sitePlane sorts sites along one dimension, for kdtree's partitioning.
type sitePlane struct {
	sites siteList
	dim   kdtree.Dim
}

func (p sitePlane) Len() int           { return len(p.sites) }
func (p sitePlane) Less(i, j int) bool { return p.sites[i].v[p.dim] < p.sites[j].v[p.dim] }
func (p sitePlane) Swap(i, j int)      { p.sites[i], p.sites[j] = p.sites[j], p.sites[i] }
func (p sitePlane) Slice(start, end int) kdtree.SortSlicer {
	return sitePlane{p.sites[start:end], p.dim}
}
