package amtrelay

import (
	"encoding/hex"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/miekg/dns"
)

// relay is one configured AMT relay.
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

	// rdataTail is the hex RDATA after the precedence octet, packed once.
	rdataTail string
}

// newRelay packs r's record once, so answers only prepend a precedence.
func newRelay(name string, record amtrelayrr.Relay, order int, pos position) (*relay, error) {
	b, err := record.Pack()
	if err != nil {
		return nil, err
	}
	return &relay{name: name, record: record, order: order, pos: pos, rdataTail: hex.EncodeToString(b[1:])}, nil
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
	return &dns.RFC3597{
		Hdr:   dns.RR_Header{Name: owner, Rrtype: dns.TypeAMTRELAY, Class: dns.ClassINET, Ttl: ttl},
		Rdata: hexOctet[precedence] + r.rdataTail,
	}
}

// noRelayRR is the record "0 0 0 ." (RFC 8777 §4.2.3).
func noRelayRR(owner string, ttl uint32) dns.RR {
	rr, _ := amtrelayrr.NoRelay.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: ttl})
	return rr
}
