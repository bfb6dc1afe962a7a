package amtrelay

import (
	"encoding/binary"
	"strings"
)

// Deterministic draws. The instances of a fleet behind one anycast
// address must give the same query the same answer, so no policy keeps a
// per-process counter or random state: rotations and draws derive from
// the query, with a hash that is the same in every process (FNV-1a, which
// has no seed, then a fixed finalizer), and from the time bucket the
// query falls in (the answer TTL, so that a rotation moves on once per
// TTL, at the same moment on every instance).
//
// What goes into the hash decides how far the answer holds, which the ECS
// SCOPE PREFIX-LENGTH of the reply must say (RFC 7871 §7.2.1):
//
//   - round-robin and weighted hash only the source name and the bucket,
//     never the client: their answers hold for every client, scope 0, and
//     the cache plugin may share them (policyKind.locates stays false);
//   - spill-over's shedding draw also hashes the GeoIP network that placed
//     the client, which is already the scope of its answers: every client
//     of that network gets the same draw, as a resolver caching the
//     answer for the scope would give it.

// drawKey is what a query's draws derive from besides the time: the
// reverse name of the source address asked for, so that its AMTRELAY
// answer, its amt. name and its _explain. name agree.
type drawKey struct {
	name string
}

// drawKeyOf is the draw key of rq: its qname without the amt. or
// _explain. label.
func drawKeyOf(rq *dnsRequest) drawKey {
	name := rq.qname
	switch rq.node.kind {
	case seedName:
		name = strings.TrimPrefix(name, seedLabel)
	case explainName:
		name = strings.TrimPrefix(name, explainLabel)
	}
	return drawKey{name: strings.ToLower(name)}
}

// bucketIndex is the number of the time bucket q falls in.
func (q *query) bucketIndex() uint64 {
	b := max(int64(q.sel.bucket), 1)
	return uint64(q.now.UnixNano() / b)
}

// rotation is where a rotation starts for q: the source name's own offset
// plus one step per time bucket, so that every name moves on by one each
// bucket and names spread over the relays at any moment.
func (q *query) rotation() uint64 {
	return q.hash(saltRotation, false, false) + q.bucketIndex()
}

// draw returns a number in [0, 1) for the salt-th draw of q: the same for
// the same source name in the same time bucket, and, with byClient, the
// same GeoIP network of the client.
func (q *query) draw(salt uint64, byClient bool) float64 {
	return float64(q.hash(salt, true, byClient)>>11) / (1 << 53)
}

// Salts keep the draws of one query apart.
const (
	saltRotation uint64 = 1 << 32
	saltShed     uint64 = 2 << 32
	saltSpill    uint64 = 3 << 32
	// saltWeighted plus the try number is the weighted policy's draws.
	saltWeighted uint64 = 4 << 32
)

// hash mixes the source name, the salt, and optionally the time bucket and
// the client's GeoIP network.
func (q *query) hash(salt uint64, withBucket, byClient bool) uint64 {
	h := fnv64a(fnvOffset64, []byte(q.key.name))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], salt)
	h = fnv64a(h, b[:])
	if withBucket {
		binary.BigEndian.PutUint64(b[:], q.bucketIndex())
		h = fnv64a(h, b[:])
	}
	if n := q.loc.network; byClient && n.IsValid() {
		a := n.Addr().As16()
		h = fnv64a(h, a[:])
		h = fnv64a(h, []byte{byte(n.Bits())})
	}
	return mix64(h)
}

// FNV-1a, 64 bits (the constants of hash/fnv), written out so that a
// query's draws cost no allocation.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv64a continues the FNV-1a hash h over b.
func fnv64a(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// mix64 is splitmix64's finalizer: FNV's low bits follow small input
// changes too closely to be used as they are.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
