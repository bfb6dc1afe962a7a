package amtrelay

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/miekg/dns"
)

// relay is one configured AMT relay, and what is known of it while the
// server runs. The fields every answer reads come first, within the
// first 64 octets, and the struct's size is a multiple of 64, so that
// Go's allocator (size classes that are multiples of 64 start on a
// cache line) puts them on one cache line: with thousands of relays and
// clients from everywhere, each line an answer reads is a likely cache
// miss, and memory latency is most of a query's cost. TestRelayHotLine
// checks the layout.
type relay struct {
	// down is set by the health checker: from the fleet's view, or this
	// instance's own probes (health.go); judged once it first decided.
	// The flag is a bit outside the relay, beside the other relays' of
	// its server block (downflag.go), so that a list of relays
	// (nearIndex) reads it without reading the relay.
	down    downFlag
	judged  atomic.Bool
	drained bool
	// tail is the RDATA after the precedence octet (RFC 8777 §4.2), for
	// answers packed as bytes, when it fits: a relay address of either
	// family, or a short name. Otherwise tail.n is 0 and packed has it.
	tail rdataTail
	// answerID numbers the relay's name in answers_total (valueID).
	answerID int32
	// loadBits and loadAt hold the last load reading (a float64's bits,
	// and its time in Unix nanoseconds; 0 for none, staticLoad for a
	// Corefile value that never ages). A reader may see a value with the
	// time of the reading before or after it: harmless.
	loadBits atomic.Uint64
	loadAt   atomic.Int64

	// packed is the relay's AMTRELAY RDATA (record), packed once for
	// answers; they read it only when tail does not hold it.
	packed *amtrelayrr.Packed
	// capacity is what load is measured against (default 1).
	capacity float64

	// name is the relay's name in the Corefile, used in logs and metrics;
	// server is the server block's address, the server label of its
	// metrics (set when the server block starts).
	name   string
	server string
	// record is the configured AMTRELAY RDATA; its precedence is used as
	// is by the static policy and replaced by the rank otherwise (packed,
	// above, is the same, packed once for answers).
	record amtrelayrr.Relay
	pos    position

	// configured holds the Corefile's `location`, if hasLocation;
	// otherwise the relay's address is looked up in the GeoIP database
	// (geo).
	configured  point
	hasLocation bool
	geo         atomic.Pointer[point]
	// weight is the share of answers the weighted policy gives the relay.
	weight float64

	// health says what decided the relay's state, for explain.
	health atomic.Pointer[string]

	// metricsURL is where the scrape load source reads this relay.
	metricsURL string

	// pad makes the size a multiple of 64 (see above).
	_ [40]byte
}

// staticLoad is the loadAt of a Corefile `load`, which never ages.
const staticLoad = math.MaxInt64

// setLoad records a load reading taken at at, or a static one.
func (r *relay) setLoad(value float64, at time.Time, static bool) {
	r.loadBits.Store(math.Float64bits(value))
	if static {
		r.loadAt.Store(staticLoad)
	} else {
		r.loadAt.Store(at.UnixNano())
	}
}

// loadReading returns the last reading, its time, and whether it is a
// static one; ok is false when there is none.
func (r *relay) loadReading() (value float64, at time.Time, static, ok bool) {
	t := r.loadAt.Load()
	if t == 0 {
		return 0, time.Time{}, false, false
	}
	return math.Float64frombits(r.loadBits.Load()), time.Unix(0, t), t == staticLoad, true
}

// newRelay packs r's record once, so answers only set a precedence.
func newRelay(name string, record amtrelayrr.Relay, pos position) (*relay, error) {
	packed, err := record.PackOnce()
	if err != nil {
		return nil, err
	}
	r := &relay{name: name, record: record, packed: packed, pos: pos, capacity: 1, weight: 1, down: newDownFlag(), answerID: answers.valueID(name)}
	r.tail.set(packed)
	return r, nil
}

// rdataTailInline is how many octets of RDATA after the precedence a
// relay holds inline: an IPv6 relay's type octet and address (17), with
// what is left of the first cache line.
const rdataTailInline = 21

// rdataTail is a relay's RDATA after the precedence octet, inline.
type rdataTail struct {
	n uint8 // 0 when the RDATA does not fit
	b [rdataTailInline]byte
}

// set copies p's RDATA after the precedence octet, if it fits.
func (t *rdataTail) set(p *amtrelayrr.Packed) {
	rd := p.AppendRDATA(nil, 0)[1:]
	if len(rd) > 0 && len(rd) <= len(t.b) {
		t.n = uint8(copy(t.b[:], rd))
	}
}

// rdLength is the length of the relay's RDATA (RFC 1035 §3.2.1 RDLENGTH),
// from tail, the relay's inline copy or a list's (place).
func (r *relay) rdLength(tail *rdataTail) int {
	if tail.n > 0 {
		return 1 + int(tail.n)
	}
	return r.packed.RDLength()
}

// appendRDATA appends the relay's RDATA at precedence to b, from tail
// when it holds it (no read of the relay beyond the line tail is in),
// else from packed.
func (r *relay) appendRDATA(b []byte, tail *rdataTail, precedence uint8) []byte {
	if tail.n > 0 {
		b = append(b, precedence)
		return append(b, tail.b[:tail.n]...)
	}
	return r.packed.AppendRDATA(b, precedence)
}

// location returns where the relay is: configured, or from the GeoIP
// database.
func (r *relay) location() (point, bool) {
	if r.hasLocation {
		return r.configured, true
	}
	if p := r.geo.Load(); p != nil {
		return *p, true
	}
	return point{}, false
}

// value is the relay's address or name.
func (r *relay) value() string {
	if r.record.Type == amtrelayrr.TypeName {
		return r.record.Name
	}
	return r.record.Addr.String()
}

// eligible reports whether the relay may be handed to new clients.
func (r *relay) eligible() bool { return relayEligible(r.drained, r.down) }

// relayEligible reports whether a relay drained or not, with the down
// flag down, may be handed to new clients.
func relayEligible(drained bool, down downFlag) bool { return !drained && !down.Load() }

// utilisation is load/capacity, or NaN when the load is unknown or older
// than maxAge (0: no limit).
func (r *relay) utilisation(now time.Time, maxAge time.Duration) float64 {
	t := r.loadAt.Load()
	if t == 0 || (t != staticLoad && maxAge > 0 && now.UnixNano()-t > int64(maxAge)) {
		return math.NaN()
	}
	return math.Float64frombits(r.loadBits.Load()) / r.capacity
}

// rr returns the relay's AMTRELAY record with the given precedence.
func (r *relay) rr(owner string, ttl uint32, precedence uint8) dns.RR {
	return r.packed.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: ttl}, precedence)
}

// noRelayRR is the record "0 0 0 ." (RFC 8777 §4.2.3).
func noRelayRR(owner string, ttl uint32) dns.RR {
	rr, _ := amtrelayrr.NoRelay.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: ttl})
	return rr
}
