package amtrelayrr

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
)

// ErrNotAMTRELAY means FromRR was given a record of another type.
var ErrNotAMTRELAY = errors.New("amtrelayrr: not an AMTRELAY record")

// RR returns r as a resource record that miekg/dns packs correctly for either
// D-bit value: a *dns.RFC3597 of type 260 holding the RDATA this package
// packed. hdr supplies the owner name, class and TTL; its Rrtype is set to
// AMTRELAY. It fails only when r does not validate.
func (r Relay) RR(hdr dns.RR_Header) (dns.RR, error) {
	rdata, err := r.Pack()
	if err != nil {
		return nil, err
	}
	hdr.Rrtype = dns.TypeAMTRELAY
	hdr.Rdlength = 0
	return &dns.RFC3597{Hdr: hdr, Rdata: hex.EncodeToString(rdata)}, nil
}

// FromRR decodes an AMTRELAY record, whether miekg/dns holds it as a
// *dns.RFC3597 (as RR and UnpackMsg produce) or as a *dns.AMTRELAY (as its
// zone parser produces).
func FromRR(rr dns.RR) (Relay, error) {
	switch v := rr.(type) {
	case *dns.RFC3597:
		if v.Hdr.Rrtype != dns.TypeAMTRELAY {
			return Relay{}, fmt.Errorf("%w: type %d", ErrNotAMTRELAY, v.Hdr.Rrtype)
		}
		rdata, err := hex.DecodeString(v.Rdata)
		if err != nil {
			return Relay{}, fmt.Errorf("amtrelayrr: RDATA is not hex: %w", err)
		}
		return Unpack(rdata)
	case *dns.AMTRELAY:
		r := Relay{
			Precedence:        v.Precedence,
			DiscoveryOptional: v.GatewayType&dBit != 0,
			Type:              RelayType(v.GatewayType &^ dBit),
		}
		switch r.Type {
		case TypeIPv4, TypeIPv6:
			a, ok := netip.AddrFromSlice(v.GatewayAddr)
			if !ok {
				return Relay{}, fmt.Errorf("%w: no address", ErrTypeMismatch)
			}
			if r.Type == TypeIPv4 {
				a = a.Unmap()
			}
			r.Addr = a
		case TypeName:
			r.Name = dns.Fqdn(v.GatewayHost)
		}
		return r, r.Validate()
	default:
		return Relay{}, fmt.Errorf("%w: %T", ErrNotAMTRELAY, rr)
	}
}
