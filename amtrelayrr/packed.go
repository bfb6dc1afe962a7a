package amtrelayrr

import (
	"encoding/hex"

	"github.com/miekg/dns"
)

// Packed is a relay whose RDATA is packed once, for a server that answers
// with the same relay many times at changing precedences: RR then costs
// no packing, and for the first precedences no string building either.
type Packed struct {
	relay Relay
	// tail is the hex RDATA after the precedence octet; byPrecedence the
	// whole hex RDATA for the first precedences, and configured for the
	// relay's own.
	tail         string
	byPrecedence [packedCached]string
	configured   string
	// wire is the RDATA in wire form, at the configured precedence.
	wire []byte
}

// packedCached is how many precedence values (0, 1, ...) Packed keeps
// whole: the ranks of an answer of three relays, and one more.
const packedCached = 4

// hexOctet holds the two hex digits of every octet value.
var hexOctet = func() (t [256]string) {
	for i := range t {
		t[i] = hex.EncodeToString([]byte{byte(i)})
	}
	return t
}()

// PackOnce validates r and packs it for Packed.RR.
func (r Relay) PackOnce() (*Packed, error) {
	b, err := r.Pack()
	if err != nil {
		return nil, err
	}
	p := &Packed{relay: r, tail: hex.EncodeToString(b[1:]), wire: b}
	for i := range p.byPrecedence {
		p.byPrecedence[i] = hexOctet[i] + p.tail
	}
	p.configured = hexOctet[r.Precedence] + p.tail
	return p, nil
}

// Relay returns the relay as configured.
func (p *Packed) Relay() Relay { return p.relay }

// RR returns the relay's AMTRELAY record at the given precedence, as
// Relay.RR does: a *dns.RFC3597 that miekg/dns packs right for either
// D-bit. hdr gives the owner name, class and TTL.
func (p *Packed) RR(hdr dns.RR_Header, precedence uint8) dns.RR {
	var rdata string
	switch {
	case int(precedence) < len(p.byPrecedence):
		rdata = p.byPrecedence[precedence]
	case precedence == p.relay.Precedence:
		rdata = p.configured
	default:
		rdata = hexOctet[precedence] + p.tail
	}
	hdr.Rrtype = dns.TypeAMTRELAY
	hdr.Rdlength = 0
	return &dns.RFC3597{Hdr: hdr, Rdata: rdata}
}

// AppendRDATA appends the relay's RDATA in wire form at the given
// precedence to b (RFC 8777 §4.2), for a server that packs its answers
// itself. A type-3 relay's name is in uncompressed form, as §4.2.3 wants.
func (p *Packed) AppendRDATA(b []byte, precedence uint8) []byte {
	b = append(b, precedence)
	return append(b, p.wire[1:]...)
}

// RDLength is the length of the RDATA AppendRDATA appends.
func (p *Packed) RDLength() int { return len(p.wire) }
