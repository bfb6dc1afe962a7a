package amt

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// MembershipQuery is an AMT Membership Query (RFC 7450 §5.1.4).
type MembershipQuery struct {
	// Limit is the L flag: the relay accepts no new gateways (§5.1.4.4).
	// RFC 8777 §3.2.3 counts a connection as made only when it is clear.
	Limit       bool
	ResponseMAC [6]byte
	Nonce       uint32
	// GeneralQuery is the encapsulated IP datagram carrying an IGMPv3 or
	// MLDv2 General Query (§5.1.4.8).
	GeneralQuery []byte
	// Gateway is the gateway endpoint the relay saw, present when the G flag
	// is set (§5.1.4.9).
	Gateway netip.AddrPort
}

// gatewayFieldsLen is the size of the Gateway Port and Gateway IP fields.
const gatewayFieldsLen = 2 + 16

// Append appends the message to b.
func (q MembershipQuery) Append(b []byte) []byte {
	var flags byte
	if q.Limit {
		flags |= flagLimit
	}
	if q.Gateway.IsValid() {
		flags |= flagGateway
	}
	b = append(b, byte(TypeMembershipQuery), flags)
	b = append(b, q.ResponseMAC[:]...)
	b = binary.BigEndian.AppendUint32(b, q.Nonce)
	b = append(b, q.GeneralQuery...)
	if q.Gateway.IsValid() {
		b = binary.BigEndian.AppendUint16(b, q.Gateway.Port())
		ip := q.Gateway.Addr().As16()
		if q.Gateway.Addr().Is4() {
			// IPv4-compatible form: 96 zero bits, then the address (§5.1.4.9.2).
			ip = [16]byte{}
			copy(ip[12:], q.Gateway.Addr().AsSlice())
		}
		b = append(b, ip[:]...)
	}
	return b
}

// ParseMembershipQuery decodes a Membership Query and checks that it carries
// a general query of the kind the Request asked for: IGMPv3 in IPv4 when mld
// is false, MLDv2 in IPv6 when it is true (§5.2.3.5.4).
func ParseMembershipQuery(msg []byte, mld bool) (MembershipQuery, error) {
	const fixed = 12
	if err := header(msg, TypeMembershipQuery, fixed); err != nil {
		return MembershipQuery{}, err
	}
	q := MembershipQuery{
		Limit: msg[1]&flagLimit != 0,
		Nonce: binary.BigEndian.Uint32(msg[8:]),
	}
	copy(q.ResponseMAC[:], msg[2:8])
	body := msg[fixed:]
	if msg[1]&flagGateway != 0 {
		if len(body) < gatewayFieldsLen {
			return MembershipQuery{}, fmt.Errorf("%w: G flag set but %d octets left for the gateway fields", ErrLength, len(body))
		}
		gw := body[len(body)-gatewayFieldsLen:]
		body = body[:len(body)-gatewayFieldsLen]
		addr := netip.AddrFrom16([16]byte(gw[2:]))
		if a := addr.As16(); [12]byte(a[:12]) == [12]byte{} {
			addr = netip.AddrFrom4([4]byte(a[12:]))
		}
		q.Gateway = netip.AddrPortFrom(addr, binary.BigEndian.Uint16(gw))
	}
	var err error
	if mld {
		err = checkMLDv2Query(body)
	} else {
		err = checkIGMPv3Query(body)
	}
	if err != nil {
		return MembershipQuery{}, err
	}
	q.GeneralQuery = append([]byte(nil), body...)
	return q, nil
}

// IGMP and MLD constants for the encapsulated general query.
const (
	protoIGMP          = 2
	protoICMPv6        = 58
	protoHopByHop      = 0
	igmpMembershipQry  = 0x11
	mldListenerQuery   = 130
	igmpv3QueryMinLen  = 12 // RFC 3376 §4.1
	mldv2QueryMinLen   = 28 // RFC 3810 §5.1
	ipv4HeaderMinLen   = 20
	ipv6HeaderLen      = 40
	maxExtensionChains = 8
)

// checkIGMPv3Query checks that b is an IPv4 datagram with an IGMPv3
// Membership Query (RFC 3376 §4.1).
func checkIGMPv3Query(b []byte) error {
	if len(b) < ipv4HeaderMinLen || b[0]>>4 != 4 {
		return fmt.Errorf("%w: not an IPv4 datagram", ErrQuery)
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < ipv4HeaderMinLen || total < ihl || total > len(b) {
		return fmt.Errorf("%w: IPv4 header lengths %d/%d do not fit %d octets", ErrQuery, ihl, total, len(b))
	}
	if b[9] != protoIGMP {
		return fmt.Errorf("%w: IPv4 protocol %d, want IGMP", ErrQuery, b[9])
	}
	igmp := b[ihl:total]
	if len(igmp) < igmpv3QueryMinLen || igmp[0] != igmpMembershipQry {
		return fmt.Errorf("%w: not an IGMPv3 Membership Query", ErrQuery)
	}
	return nil
}

// checkMLDv2Query checks that b is an IPv6 datagram with an MLDv2 Listener
// Query (RFC 3810 §5.1), possibly behind a Hop-by-Hop header.
func checkMLDv2Query(b []byte) error {
	if len(b) < ipv6HeaderLen || b[0]>>4 != 6 {
		return fmt.Errorf("%w: not an IPv6 datagram", ErrQuery)
	}
	payload := int(binary.BigEndian.Uint16(b[4:]))
	if ipv6HeaderLen+payload > len(b) {
		return fmt.Errorf("%w: IPv6 payload length %d does not fit %d octets", ErrQuery, payload, len(b))
	}
	next, rest := b[6], b[ipv6HeaderLen:ipv6HeaderLen+payload]
	for range maxExtensionChains {
		if next != protoHopByHop {
			break
		}
		if len(rest) < 8 {
			return fmt.Errorf("%w: short Hop-by-Hop header", ErrQuery)
		}
		n := (int(rest[1]) + 1) * 8
		if n > len(rest) {
			return fmt.Errorf("%w: Hop-by-Hop header runs past the datagram", ErrQuery)
		}
		next, rest = rest[0], rest[n:]
	}
	if next != protoICMPv6 || len(rest) < mldv2QueryMinLen || rest[0] != mldListenerQuery {
		return fmt.Errorf("%w: not an MLDv2 Listener Query", ErrQuery)
	}
	return nil
}

// GeneralQuery returns a minimal encapsulated general query for a relay to
// send: an IPv4 datagram with an IGMPv3 query, or with mld an IPv6 datagram
// with an MLDv2 query. QQIC is set to qqic (RFC 3376 §4.1.7, RFC 3810
// §5.1.9: seconds below 128), and QRV to 2, the default Robustness Variable
// (RFC 3376 §8.1), since a relay must set it non-zero (RFC 7450 §5.3.3.3).
// Checksums are left zero: gateways do not verify them before use.
func GeneralQuery(mld bool, qqic uint8) []byte {
	if mld {
		b := make([]byte, ipv6HeaderLen+8+mldv2QueryMinLen)
		b[0] = 6 << 4
		binary.BigEndian.PutUint16(b[4:], uint16(8+mldv2QueryMinLen))
		b[6], b[7] = protoHopByHop, 1
		b[8], b[24] = 0xfe, 0xff // fe80::/10 source, ff02::1 destination
		b[9], b[39] = 0x80, 1
		b[24+1] = 0x02
		hbh := b[ipv6HeaderLen:]
		hbh[0] = protoICMPv6
		hbh[2], hbh[3] = 5, 2 // Router Alert option (RFC 2711)
		mld := hbh[8:]
		mld[0] = mldListenerQuery
		mld[24] = defaultRobustness
		mld[25] = qqic
		return b
	}
	b := make([]byte, ipv4HeaderMinLen+igmpv3QueryMinLen)
	b[0] = 4<<4 | 5
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	b[8], b[9] = 1, protoIGMP
	copy(b[16:], []byte{224, 0, 0, 1})
	igmp := b[ipv4HeaderMinLen:]
	igmp[0] = igmpMembershipQry
	igmp[8] = defaultRobustness
	igmp[9] = qqic
	return b
}
