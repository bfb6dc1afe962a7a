package amtrelay

import (
	"encoding/hex"
	"math"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/miekg/dns"
)

// relay is one configured AMT relay, and what is known of it while the
// server runs.
type relay struct {
	// name is the relay's name in the Corefile, used in logs and metrics.
	name string
	// record is the configured AMTRELAY RDATA; its precedence is used as
	// is by the static policy and replaced by the rank otherwise.
	record amtrelayrr.Relay
	// order is the relay's place in the Corefile: the operator's failover
	// order.
	order int
	pos   position

	// configured holds the Corefile's `location`, if any; otherwise the
	// relay's address is looked up in the GeoIP database (geo).
	configured *point
	geo        atomic.Pointer[point]
	// capacity is what load is measured against (default 1).
	capacity float64
	// weight is the share of answers the weighted policy gives the relay.
	weight float64
	// drained relays get no new clients.
	drained bool

	// down is set by the health probe, with full when the relay answered
	// with the L flag; load by a load source.
	down atomic.Bool
	full atomic.Bool
	load atomic.Pointer[loadSample]
	// metricsURL is where the scrape load source reads this relay.
	metricsURL string

	// rdataTail is the hex RDATA after the precedence octet, packed once,
	// and rdata the whole hex RDATA for the precedences ranks use most.
	rdataTail string
	rdata     [rdataCached]string
}

// rdataCached is how many precedence values have their RDATA kept whole.
const rdataCached = 16

// loadSample is one load reading and when it was taken. Static samples,
// from the Corefile, never age.
type loadSample struct {
	value  float64
	at     time.Time
	static bool
}

// newRelay packs r's record once, so answers only prepend a precedence.
func newRelay(name string, record amtrelayrr.Relay, order int, pos position) (*relay, error) {
	b, err := record.Pack()
	if err != nil {
		return nil, err
	}
	r := &relay{name: name, record: record, order: order, pos: pos, capacity: 1, weight: 1, rdataTail: hex.EncodeToString(b[1:])}
	for p := range r.rdata {
		r.rdata[p] = hexOctet[p] + r.rdataTail
	}
	return r, nil
}

// location returns where the relay is: configured, or from the GeoIP
// database.
func (r *relay) location() (point, bool) {
	if r.configured != nil {
		return *r.configured, true
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
func (r *relay) eligible() bool { return !r.drained && !r.down.Load() }

// utilisation is load/capacity, or NaN when the load is unknown or older
// than maxAge (0: no limit).
func (r *relay) utilisation(now time.Time, maxAge time.Duration) float64 {
	s := r.load.Load()
	if s == nil || (!s.static && maxAge > 0 && now.Sub(s.at) > maxAge) {
		return math.NaN()
	}
	return s.value / r.capacity
}

// hexOctet holds the two hex digits of every octet value.
var hexOctet = func() (t [256]string) {
	for i := range t {
		t[i] = hex.EncodeToString([]byte{byte(i)})
	}
	return t
}()

// rr returns the relay's AMTRELAY record with the given precedence. It is a
// *dns.RFC3597 so that miekg/dns packs it right for either D-bit; see
// package amtrelayrr.
func (r *relay) rr(owner string, ttl uint32, precedence uint8) dns.RR {
	rdata := ""
	if int(precedence) < len(r.rdata) {
		rdata = r.rdata[precedence]
	} else {
		rdata = hexOctet[precedence] + r.rdataTail
	}
	return &dns.RFC3597{
		Hdr:   dns.RR_Header{Name: owner, Rrtype: dns.TypeAMTRELAY, Class: dns.ClassINET, Ttl: ttl},
		Rdata: rdata,
	}
}

// noRelayRR is the record "0 0 0 ." (RFC 8777 §4.2.3).
func noRelayRR(owner string, ttl uint32) dns.RR {
	rr, _ := amtrelayrr.NoRelay.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: ttl})
	return rr
}
