package amt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Errors from ParseData and ParseReport. Test with errors.Is.
var (
	// ErrDatagram: the IP datagram in a Multicast Data message is not an
	// IPv4 or IPv6 datagram to a multicast group.
	ErrDatagram = errors.New("amt: bad encapsulated multicast datagram")
	// ErrFragment: the datagram is a fragment. RFC 7450 §5.1.6.4 lets a
	// relay send fragments; ParseData does not reassemble them.
	ErrFragment = errors.New("amt: encapsulated datagram is a fragment")
	// ErrNotUDP: the datagram does not carry UDP (or hides it behind an
	// extension header other than Hop-by-Hop or Destination Options).
	ErrNotUDP = errors.New("amt: encapsulated datagram is not UDP")
	// ErrChecksum: an IPv4 header, UDP, IGMP or ICMPv6 checksum is wrong.
	ErrChecksum = errors.New("amt: bad checksum")
)

// Protocol numbers and sizes for Multicast Data.
const (
	dataHeaderLen    = 2 // V, type, reserved (RFC 7450 §5.1.6)
	udpHeaderLen     = 8
	protoUDP         = 17
	protoDestOptions = 60
	protoFragment    = 44
	dataHopLimit     = 64 // TTL and hop limit of datagrams Data.Append builds
	// MaxDataPayload is the largest UDP payload Data.Append encapsulates
	// over IPv4: 65535 less the IPv4 and UDP headers. Over IPv6 it is
	// 65535-8, less than the IPv6 payload length allows.
	MaxDataPayload = maxIPLength - ipv4HeaderMinLen - udpHeaderLen
)

// Data is the UDP datagram that a Multicast Data message (RFC 7450 §5.1.6)
// delivers: source S, group G, UDP ports and payload.
type Data struct {
	Source, Group        netip.Addr
	SourcePort, DestPort uint16
	// Payload is the UDP payload. ParseData returns a slice of its input,
	// not a copy.
	Payload []byte
}

// Append appends a Multicast Data message carrying d to b: an IPv4 or IPv6
// datagram (by the family of Group; Source must match) without options or
// extension headers, TTL or hop limit 64, with the IPv4 header checksum and
// the UDP checksum set. It returns b unchanged and an error wrapping
// ErrDatagram if the addresses do not fit or the payload is over
// MaxDataPayload octets.
func (d Data) Append(b []byte) ([]byte, error) {
	v6 := d.Group.Is6() && !d.Group.Is4In6()
	if !isGroup(d.Group, v6) || !isFamily(d.Source, v6) {
		return b, fmt.Errorf("%w: source %v, group %v", ErrDatagram, d.Source, d.Group)
	}
	if len(d.Payload) > MaxDataPayload {
		return b, fmt.Errorf("%w: payload of %d octets, over %d", ErrDatagram, len(d.Payload), MaxDataPayload)
	}
	ulen := udpHeaderLen + len(d.Payload)
	b = append(b, byte(TypeMulticastData), 0)
	ip := len(b)
	var src, dst []byte
	if v6 {
		b = append(b, 6<<4, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ulen))
		b = append(b, protoUDP, dataHopLimit)
		s, g := d.Source.As16(), d.Group.As16()
		b = append(b, s[:]...)
		b = append(b, g[:]...)
		src, dst = b[ip+8:ip+24], b[ip+24:ip+40]
	} else {
		b = append(b, 4<<4|ipv4HeaderMinLen/4, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ipv4HeaderMinLen+ulen))
		b = append(b, 0, 0, 0, 0, dataHopLimit, protoUDP, 0, 0)
		s, g := d.Source.Unmap().As4(), d.Group.Unmap().As4()
		b = append(b, s[:]...)
		b = append(b, g[:]...)
		binary.BigEndian.PutUint16(b[ip+10:], checksum(sum(0, b[ip:])))
		src, dst = b[ip+12:ip+16], b[ip+16:ip+20]
	}
	udp := len(b)
	b = binary.BigEndian.AppendUint16(b, d.SourcePort)
	b = binary.BigEndian.AppendUint16(b, d.DestPort)
	b = binary.BigEndian.AppendUint16(b, uint16(ulen))
	b = append(b, 0, 0)
	b = append(b, d.Payload...)
	c := checksum(sum(pseudoSum(src, dst, protoUDP, ulen), b[udp:]))
	if c == 0 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(b[udp+6:], c)
	return b, nil
}

// ParseData decapsulates a Multicast Data message (RFC 7450 §5.1.6) whose
// datagram carries UDP, without allocating: Payload is a slice of msg. The
// reserved octet is ignored (§5.1.6.3). The message must hold exactly one
// datagram whose IP and UDP lengths agree (ErrLength); fragments are refused
// (ErrFragment). It checks the IPv4 header checksum and the UDP checksum
// (ErrChecksum). A zero UDP checksum means none and is accepted over IPv6
// too: RFC 8200 §8.1 makes it mandatory, but a gateway that decapsulates
// AMT data itself MUST NOT discard datagrams for carrying a zero UDP
// checksum (RFC 7450 §5.2.3.3, RFC 6936 for tunnels). An IPv6 datagram may have Hop-by-Hop and
// Destination Options headers before the UDP header.
func ParseData(msg []byte) (Data, error) {
	if err := header(msg, TypeMulticastData, dataHeaderLen+1); err != nil {
		return Data{}, err
	}
	ip := msg[dataHeaderLen:]
	switch ip[0] >> 4 {
	case 4:
		return parseUDPv4(ip)
	case 6:
		return parseUDPv6(ip)
	}
	return Data{}, fmt.Errorf("%w: IP version %d", ErrDatagram, ip[0]>>4)
}

func parseUDPv4(ip []byte) (Data, error) {
	if len(ip) < ipv4HeaderMinLen {
		return Data{}, fmt.Errorf("%w: %d octets, shorter than an IPv4 header", ErrLength, len(ip))
	}
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < ipv4HeaderMinLen || total < ihl || total != len(ip) {
		return Data{}, fmt.Errorf("%w: IPv4 header lengths %d/%d in %d octets", ErrLength, ihl, total, len(ip))
	}
	if checksum(sum(0, ip[:ihl])) != 0 {
		return Data{}, fmt.Errorf("%w: IPv4 header", ErrChecksum)
	}
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 { // MF flag or fragment offset
		return Data{}, ErrFragment
	}
	if ip[9] != protoUDP {
		return Data{}, fmt.Errorf("%w: IPv4 protocol %d", ErrNotUDP, ip[9])
	}
	d := Data{
		Source: netip.AddrFrom4([4]byte(ip[12:16])),
		Group:  netip.AddrFrom4([4]byte(ip[16:20])),
	}
	if !d.Group.IsMulticast() {
		return Data{}, fmt.Errorf("%w: destination %v is not multicast", ErrDatagram, d.Group)
	}
	udp := ip[ihl:]
	if err := d.parseUDP(udp); err != nil {
		return Data{}, err
	}
	if udp[6] != 0 || udp[7] != 0 { // zero: no checksum (RFC 768)
		if checksum(sum(pseudoSum(ip[12:16], ip[16:20], protoUDP, len(udp)), udp)) != 0 {
			return Data{}, fmt.Errorf("%w: UDP over IPv4", ErrChecksum)
		}
	}
	return d, nil
}

func parseUDPv6(ip []byte) (Data, error) {
	if len(ip) < ipv6HeaderLen {
		return Data{}, fmt.Errorf("%w: %d octets, shorter than an IPv6 header", ErrLength, len(ip))
	}
	if payload := int(binary.BigEndian.Uint16(ip[4:])); ipv6HeaderLen+payload != len(ip) {
		// A zero payload length (a jumbogram, RFC 2675) fails here too.
		return Data{}, fmt.Errorf("%w: IPv6 payload length %d in %d octets", ErrLength, payload, len(ip))
	}
	if ip[24] != 0xff {
		return Data{}, fmt.Errorf("%w: destination %v is not multicast", ErrDatagram, netip.AddrFrom16([16]byte(ip[24:40])))
	}
	next, rest := ip[6], ip[ipv6HeaderLen:]
	for i := 0; next != protoUDP; i++ {
		switch {
		case next == protoFragment:
			return Data{}, ErrFragment
		case i >= maxExtensionChains || !(next == protoHopByHop && i == 0 || next == protoDestOptions):
			return Data{}, fmt.Errorf("%w: next header %d", ErrNotUDP, next)
		case len(rest) < 8 || (int(rest[1])+1)*8 > len(rest):
			return Data{}, fmt.Errorf("%w: extension header runs past the datagram", ErrLength)
		}
		next, rest = rest[0], rest[(int(rest[1])+1)*8:]
	}
	d := Data{
		Source: netip.AddrFrom16([16]byte(ip[8:24])),
		Group:  netip.AddrFrom16([16]byte(ip[24:40])),
	}
	if err := d.parseUDP(rest); err != nil {
		return Data{}, err
	}
	if rest[6] == 0 && rest[7] == 0 {
		return d, nil // no checksum: RFC 7450 §5.2.3.3 forbids discarding it
	}
	if checksum(sum(pseudoSum(ip[8:24], ip[24:40], protoUDP, len(rest)), rest)) != 0 {
		return Data{}, fmt.Errorf("%w: UDP over IPv6", ErrChecksum)
	}
	return d, nil
}

// parseUDP fills in the ports and payload from udp, the whole IP payload,
// whose length the UDP length must equal.
func (d *Data) parseUDP(udp []byte) error {
	if len(udp) < udpHeaderLen {
		return fmt.Errorf("%w: %d octets, shorter than a UDP header", ErrLength, len(udp))
	}
	if n := int(binary.BigEndian.Uint16(udp[4:])); n != len(udp) {
		return fmt.Errorf("%w: UDP length %d in an IP payload of %d octets", ErrLength, n, len(udp))
	}
	d.SourcePort = binary.BigEndian.Uint16(udp)
	d.DestPort = binary.BigEndian.Uint16(udp[2:])
	d.Payload = udp[udpHeaderLen:]
	return nil
}
