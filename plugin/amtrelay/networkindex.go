package amtrelay

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
)

// A flat index of a GeoIP database's networks, built with the nearest
// relay lists (scope.go) and used by lookups instead of the database's
// search tree. The tree takes one dependent memory read per bit of the
// address, 120 or more for an IPv4 client in an IPv6 database, and a
// database of hundreds of thousands of networks does not fit in the CPU's
// caches: with clients from many subnets, the walk was the plugin's
// largest cost per query (by a CPU profile under dnsperf). The index
// splits the address space into 65,536 buckets by the first 16 bits and
// binary-searches the networks that start in the client's bucket: a few
// reads, mostly cached. gdnsd compiles its database into a map of the same
// kind.
//
// Networks are not spread evenly over the buckets: IPv6 networks crowd
// into the few /16s the registries allocate from (2001::/16, 2a00::/16,
// ...), and a binary search over tens of thousands of them is as many
// dependent reads, most of them cache misses (with a fifth of the clients
// over IPv6, IPv6 took half of the index's time, by a CPU profile under
// dnsperf). A crowded bucket is split again (denseBucket): by the bits
// that follow those its networks all share, into about as many parts as
// it has networks.
//
// The index answers for addresses in a database network. An address in
// none (the database's "not found", whose network is the empty one around
// it), an IPv4-mapped IPv6 address, and IPv6 when a database network is
// longer than /64 go to the tree, which says the same, only slower.

// networkIndex is the flat index of one database's networks.
type networkIndex struct {
	v4 flatNetworks[uint32]
	// v6 keys IPv6 networks by their first 64 bits; usable6 is false when
	// a network is longer than that.
	v6      flatNetworks[uint64]
	usable6 bool
	// scopes is the scope table whose merged lengths the networks hold
	// (flatNetwork.wide), nil for none: set before the index is
	// published, never after (holdScopes).
	scopes *scopeTable
}

// flatNetworks are the networks of one address family, in address order,
// keyed by their first address's leading bits (32 for IPv4, 64 for
// IPv6).
type flatNetworks[K uint32 | uint64] struct {
	// first[b] is the first network starting in bucket b or later; the
	// networks starting in bucket b are first[b]:first[b+1].
	first []int32
	// dense[b] splits bucket b when it holds more than denseBucketSize
	// networks (zero otherwise; nil when no bucket does): its parts
	// start at sub[dense[b].off:].
	dense []denseBucket[K]
	sub   []int32
	// nets hold what a lookup needs side by side: the binary search's
	// last read brings the network's length and location with it, one
	// cache line where three arrays took three.
	nets []flatNetwork[K]
	// base is the number, among all of the database's networks (the nets
	// given to newNetworkIndex), of the first network here.
	base int32
	// size is how many bits a key has.
	size int
}

// flatNetwork is one network: its first address's key, its length, and
// its location's number (dbPlaces), -1 for none; and, in what would be
// padding, the length of the merged prefix that holds it in the index's
// scope table (scopeTable.bits), so that widening the answer's ECS scope
// reads no other cache line.
type flatNetwork[K uint32 | uint64] struct {
	start    K
	bits     uint8
	wide     uint8
	location int32
}

// bucketBits is how many leading bits pick a bucket.
const bucketBits = 16

// denseBucketSize is how many networks a bucket holds before it is split:
// a binary search over up to 16 reads about as many cache lines as the
// split's two tables.
const denseBucketSize = 16

// denseBucket splits a crowded bucket. Its networks' keys all start with
// the same shared bits, prefix; the next bits of a key (up to the key's
// end) pick one of 1<<bits parts, and the networks starting in part j are
// sub[off+j]:sub[off+j+1]. A key in the bucket but outside the prefix
// lies before or after all of its networks: it goes to the first or the
// last part, whose search then lands on the network before the part, as
// it must.
type denseBucket[K uint32 | uint64] struct {
	prefix K
	off    int32
	shared uint8
	bits   uint8
}

// newNetworkIndex indexes nets, which are in address order (IPv4 before
// IPv6), as the database lists them. It returns nil when they are not:
// lookups then keep to the tree.
func newNetworkIndex(nets []dbNetwork) *networkIndex {
	if !slices.IsSortedFunc(nets, func(a, b dbNetwork) int { return a.prefix.Addr().Compare(b.prefix.Addr()) }) {
		return nil
	}
	n4 := 0
	for n4 < len(nets) && nets[n4].prefix.Addr().Is4() {
		n4++
	}
	ix := &networkIndex{usable6: true}
	ix.v4 = buildFlat(nets[:n4], 0, 32, func(p netip.Prefix) uint32 {
		a := p.Addr().As4()
		return binary.BigEndian.Uint32(a[:])
	})
	for _, n := range nets[n4:] {
		if n.prefix.Bits() > 64 || n.prefix.Addr().Is4In6() {
			ix.usable6 = false
			break
		}
	}
	if ix.usable6 {
		ix.v6 = buildFlat(nets[n4:], int32(n4), 64, func(p netip.Prefix) uint64 {
			a := p.Addr().As16()
			return binary.BigEndian.Uint64(a[:8])
		})
	}
	return ix
}

// buildFlat indexes nets of one family, numbered from base.
func buildFlat[K uint32 | uint64](nets []dbNetwork, base int32, size int, key func(netip.Prefix) K) flatNetworks[K] {
	f := flatNetworks[K]{
		size:  size,
		first: make([]int32, 1<<bucketBits+1),
		nets:  make([]flatNetwork[K], len(nets)),
		base:  base,
	}
	shift := size - bucketBits
	b := 0
	for i, n := range nets {
		if i%yieldEvery == 0 {
			runtime.Gosched()
		}
		f.nets[i] = flatNetwork[K]{start: key(n.prefix), bits: uint8(n.prefix.Bits()), location: n.location}
		for ; b <= int(f.nets[i].start>>shift); b++ {
			f.first[b] = int32(i)
		}
	}
	for ; b <= 1<<bucketBits; b++ {
		f.first[b] = int32(len(nets))
	}
	f.splitDense()
	return f
}

// splitDense splits the buckets of f that hold more than denseBucketSize
// networks.
func (f *flatNetworks[K]) splitDense() {
	for b := range 1 << bucketBits {
		if b%yieldEvery == 0 {
			runtime.Gosched()
		}
		lo, hi := int(f.first[b]), int(f.first[b+1])
		n := hi - lo
		if n <= denseBucketSize {
			continue
		}
		if f.dense == nil {
			f.dense = make([]denseBucket[K], 1<<bucketBits)
		}
		// Keys are in order: the first and last share what all share.
		shared := bits.LeadingZeros64(uint64(f.nets[lo].start^f.nets[hi-1].start)) - (64 - f.size)
		parts := min(bits.Len(uint(n)), f.size-shared, maxPartBits)
		d := denseBucket[K]{prefix: f.nets[lo].start >> (f.size - shared), off: int32(len(f.sub)), shared: uint8(shared), bits: uint8(parts)}
		i := lo
		for j := range 1 << parts {
			for i < hi && d.part(f.nets[i].start, f.size) < j {
				i++
			}
			f.sub = append(f.sub, int32(i))
		}
		f.sub = append(f.sub, int32(hi))
		f.dense[b] = d
	}
}

// maxPartBits bounds how many parts a bucket splits into (1<<20).
const maxPartBits = 20

// part is the part of d that key k, of size bits, falls in.
func (d *denseBucket[K]) part(k K, size int) int {
	switch top := k >> (size - int(d.shared)); {
	case top < d.prefix:
		return 0
	case top > d.prefix:
		return 1<<d.bits - 1
	}
	return int((k << d.shared) >> (size - int(d.bits)))
}

// find returns the network that holds k; ok is false when no network
// does.
func (f *flatNetworks[K]) find(k K) (n *flatNetwork[K], number int32, ok bool) {
	if len(f.nets) == 0 {
		return nil, 0, false
	}
	b := k >> (f.size - bucketBits)
	lo, hi := int(f.first[b]), int(f.first[b+1])
	if hi-lo > denseBucketSize {
		d := &f.dense[b]
		j := int(d.off) + d.part(k, f.size)
		lo, hi = int(f.sub[j]), int(f.sub[j+1])
	}
	// The last network starting at or before k: in the bucket, or the
	// last one before it (a network wider than a bucket).
	i, found := slices.BinarySearchFunc(f.nets[lo:hi], k, func(n flatNetwork[K], k K) int { return cmp.Compare(n.start, k) })
	if found { // network starts are distinct: k starts one
		i++
	}
	i += lo - 1
	if i < 0 {
		return nil, 0, false
	}
	n = &f.nets[i]
	// k is in the network when they agree on its first bits.
	if n.bits > 0 && (n.start^k)>>(f.size-int(n.bits)) != 0 {
		return nil, 0, false
	}
	return n, f.base + int32(i), true
}

// found is what the index says of an address: the network of the
// database that holds it, its number among the database's networks, its
// location's number (-1 for none), and the length of the merged prefix
// that holds it in the index's scope table.
type found struct {
	network  netip.Prefix
	number   int32
	location int32
	wide     uint8
}

// find returns the network of the database that holds a. ok is false
// when the index cannot tell, and the tree must.
func (ix *networkIndex) find(a netip.Addr) (f found, ok bool) {
	var bits uint8
	switch {
	case a.Is4():
		b := a.As4()
		var n *flatNetwork[uint32]
		if n, f.number, ok = ix.v4.find(binary.BigEndian.Uint32(b[:])); ok {
			bits, f.location, f.wide = n.bits, n.location, n.wide
		}
	case ix.usable6 && !a.Is4In6():
		b := a.As16()
		var n *flatNetwork[uint64]
		if n, f.number, ok = ix.v6.find(binary.BigEndian.Uint64(b[:8])); ok {
			bits, f.location, f.wide = n.bits, n.location, n.wide
		}
	}
	if !ok {
		return found{}, false
	}
	f.network, _ = a.Prefix(int(bits))
	return f, true
}

// holdScopes writes t's merged lengths (t.bits, by network number) into
// the networks, before the index is published.
func (ix *networkIndex) holdScopes(t *scopeTable) {
	for i := range ix.v4.nets {
		ix.v4.nets[i].wide = t.bits[ix.v4.base+int32(i)]
	}
	for i := range ix.v6.nets {
		ix.v6.nets[i].wide = t.bits[ix.v6.base+int32(i)]
	}
	ix.scopes = t
}
