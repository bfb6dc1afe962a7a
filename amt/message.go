package amt

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Port is the AMT UDP port (RFC 7450 §7.2).
const Port = 2268

// The Relay Discovery Addresses of the AMT anycast prefixes (RFC 7450
// §4.1.5.2, §7.1). They are not reachable from test machines: never send to
// them outside a network namespace.
var (
	AnycastIPv4 = netip.MustParseAddr("192.52.193.1")
	AnycastIPv6 = netip.MustParseAddr("2001:3::1")
)

// Type is the AMT message type (RFC 7450 §5.1). Octet 0 of every message is
// V=0 in the high nibble and the type in the low one.
type Type uint8

// Message types of RFC 7450 §5.1.
const (
	TypeRelayDiscovery     Type = 1
	TypeRelayAdvertisement Type = 2
	TypeRequest            Type = 3
	TypeMembershipQuery    Type = 4
	TypeMembershipUpdate   Type = 5
	TypeMulticastData      Type = 6
	TypeTeardown           Type = 7
)

// Membership Query flags (RFC 7450 §5.1.4.4, §5.1.4.5).
const (
	flagLimit   = 0x02
	flagGateway = 0x01
)

// Errors from the parsers. Test with errors.Is.
var (
	ErrVersion = errors.New("amt: version is not 0 (RFC 7450 §5.2.3.2)")
	ErrType    = errors.New("amt: unexpected message type")
	ErrLength  = errors.New("amt: bad message length")
	ErrNonce   = errors.New("amt: nonce does not match")
	ErrSource  = errors.New("amt: reply from an address or port the message was not sent to")
	ErrQuery   = errors.New("amt: bad encapsulated general query")
	// ErrMapped: a Relay Advertisement's 16-octet relay address is an
	// IPv4-mapped IPv6 address, which RFC 4291 §2.5.5.2 keeps off the
	// wire; a relay advertises an IPv4 address in 4 octets (RFC 7450
	// §5.1.2.5).
	ErrMapped = errors.New("amt: IPv4-mapped relay address (RFC 4291 §2.5.5.2): an IPv4 relay is advertised in 4 octets")
)

// NewNonce returns a random non-zero 32-bit nonce from crypto/rand
// (RFC 7450 §5.2.3.4.5, §5.2.3.5.6). Relays drop a Discovery with nonce 0.
func NewNonce() (uint32, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("amt: reading a nonce from crypto/rand: %w", err)
		}
		if n := binary.BigEndian.Uint32(b[:]); n != 0 {
			return n, nil
		}
	}
}

// header checks the version and type of msg and that it has at least min
// octets.
func header(msg []byte, t Type, min int) error {
	if len(msg) < 1 {
		return fmt.Errorf("%w: empty", ErrLength)
	}
	if msg[0]>>4 != 0 {
		return ErrVersion
	}
	if Type(msg[0]&0x0f) != t {
		return fmt.Errorf("%w: %d, want %d", ErrType, msg[0]&0x0f, t)
	}
	if len(msg) < min {
		return fmt.Errorf("%w: %d octets, want at least %d", ErrLength, len(msg), min)
	}
	return nil
}

// AppendDiscovery appends a Relay Discovery (RFC 7450 §5.1.1) with nonce.
func AppendDiscovery(b []byte, nonce uint32) []byte {
	b = append(b, byte(TypeRelayDiscovery), 0, 0, 0)
	return binary.BigEndian.AppendUint32(b, nonce)
}

// ParseDiscovery returns the nonce of a Relay Discovery.
func ParseDiscovery(msg []byte) (nonce uint32, err error) {
	if err := header(msg, TypeRelayDiscovery, 8); err != nil {
		return 0, err
	}
	if len(msg) != 8 {
		return 0, fmt.Errorf("%w: Relay Discovery of %d octets, want 8", ErrLength, len(msg))
	}
	return binary.BigEndian.Uint32(msg[4:]), nil
}

// Advertisement is a Relay Advertisement (RFC 7450 §5.1.2).
type Advertisement struct {
	Nonce uint32
	// Relay is the unicast address the relay asks gateways to use.
	Relay netip.Addr
}

// Append appends the message to b; an IPv4 relay, IPv4-mapped or not, in
// 4 octets.
func (a Advertisement) Append(b []byte) []byte {
	b = append(b, byte(TypeRelayAdvertisement), 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, a.Nonce)
	return append(b, a.Relay.Unmap().AsSlice()...)
}

// ParseAdvertisement decodes a Relay Advertisement. The address family comes
// from the length: 12 octets for IPv4, 24 for IPv6 (§5.1.2.5). An
// IPv4-mapped address in the IPv6 form is refused (ErrMapped), so that
// what ParseAdvertisement accepts, Append writes back octet for octet.
func ParseAdvertisement(msg []byte) (Advertisement, error) {
	if err := header(msg, TypeRelayAdvertisement, 12); err != nil {
		return Advertisement{}, err
	}
	a := Advertisement{Nonce: binary.BigEndian.Uint32(msg[4:])}
	switch len(msg) {
	case 12:
		a.Relay = netip.AddrFrom4([4]byte(msg[8:12]))
	case 24:
		a.Relay = netip.AddrFrom16([16]byte(msg[8:24]))
		if a.Relay.Is4In6() {
			return Advertisement{}, ErrMapped
		}
	default:
		return Advertisement{}, fmt.Errorf("%w: Relay Advertisement of %d octets, want 12 or 24", ErrLength, len(msg))
	}
	return a, nil
}

// Request is an AMT Request (RFC 7450 §5.1.3).
type Request struct {
	Nonce uint32
	// MLD is the P flag: true asks for an MLDv2 query over IPv6, false for
	// an IGMPv3 query over IPv4 (§5.1.3.4).
	MLD bool
}

// Append appends the message to b.
func (r Request) Append(b []byte) []byte {
	var p byte
	if r.MLD {
		p = 1
	}
	b = append(b, byte(TypeRequest), p, 0, 0)
	return binary.BigEndian.AppendUint32(b, r.Nonce)
}

// ParseRequest decodes a Request.
func ParseRequest(msg []byte) (Request, error) {
	if err := header(msg, TypeRequest, 8); err != nil {
		return Request{}, err
	}
	if len(msg) != 8 {
		return Request{}, fmt.Errorf("%w: Request of %d octets, want 8", ErrLength, len(msg))
	}
	return Request{Nonce: binary.BigEndian.Uint32(msg[4:]), MLD: msg[1]&1 == 1}, nil
}
