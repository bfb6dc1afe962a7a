package amtrelayrr

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// RelayType is the 7-bit relay type field of an AMTRELAY record
// (RFC 8777 §4.2.3).
type RelayType uint8

// Relay types defined by RFC 8777 §4.2.3 and §5. Values 4-127 are unassigned
// (IANA registry, erratum 6688).
const (
	TypeNone RelayType = 0 // no relay: do not use AMT for this source
	TypeIPv4 RelayType = 1 // 4-octet IPv4 address
	TypeIPv6 RelayType = 2 // 16-octet IPv6 address
	TypeName RelayType = 3 // uncompressed wire-format domain name
)

// MaxType is the largest value the 7-bit type field can hold.
const MaxType = 0x7f

// dBit is the D-bit ("discovery optional") in the second RDATA octet
// (RFC 8777 §4.2.2).
const dBit = 0x80

// Errors returned by Unpack and Parse. Test with errors.Is.
var (
	// ErrShort means the RDATA is shorter than its relay type requires.
	ErrShort = errors.New("amtrelayrr: RDATA too short")
	// ErrLength means the RDATA does not end where its relay type says it must.
	ErrLength = errors.New("amtrelayrr: RDATA length does not match relay type")
	// ErrCompressed means a type-3 relay name uses DNS name compression,
	// which RFC 8777 §4.2.4 forbids.
	ErrCompressed = errors.New("amtrelayrr: compressed relay name (RFC 8777 §4.2.4 forbids compression)")
	// ErrUnknownType means the relay type is not 0-3. Gateways should skip
	// such records (RFC 8777 §4.2.3); Relay.Raw holds the relay field.
	ErrUnknownType = errors.New("amtrelayrr: unknown relay type")
	// ErrTypeMismatch means a relay's value does not fit its relay type, such as
	// an IPv6 address given with type 1.
	ErrTypeMismatch = errors.New("amtrelayrr: relay does not match its type")
)

// Relay is the RDATA of one AMTRELAY record (RFC 8777 §4.2).
type Relay struct {
	// Precedence orders relays: lower values are tried first (§4.2.1).
	Precedence uint8
	// DiscoveryOptional is the D-bit (§4.2.2). When false the gateway must
	// run AMT relay discovery before sending a Request; when true it may
	// send a Request directly. RFC 8777 requires 0 when nothing is known.
	DiscoveryOptional bool
	// Type says which of Addr and Name holds the relay (§4.2.3).
	Type RelayType
	// Addr is the relay address for TypeIPv4 and TypeIPv6.
	Addr netip.Addr
	// Name is the fully qualified relay name for TypeName.
	Name string
	// Raw is the undecoded relay field of a record of unknown type.
	Raw []byte
}

// NoRelay is the record "0 0 0 .": no AMT relay should be used for traffic
// from this source (RFC 8777 §4.2.3).
var NoRelay = Relay{Type: TypeNone}

// ForAddr returns a type-1 or type-2 relay for addr, by its family.
func ForAddr(precedence uint8, discoveryOptional bool, addr netip.Addr) Relay {
	t := TypeIPv6
	if addr.Unmap().Is4() {
		t, addr = TypeIPv4, addr.Unmap()
	}
	return Relay{Precedence: precedence, DiscoveryOptional: discoveryOptional, Type: t, Addr: addr}
}

// ForName returns a type-3 relay for the domain name name.
func ForName(precedence uint8, discoveryOptional bool, name string) Relay {
	return Relay{Precedence: precedence, DiscoveryOptional: discoveryOptional, Type: TypeName, Name: dns.Fqdn(name)}
}

// Validate reports whether the relay's value fits its type.
func (r Relay) Validate() error {
	switch r.Type {
	case TypeNone:
		return nil
	case TypeIPv4:
		if !r.Addr.Is4() {
			return fmt.Errorf("%w: type 1 needs an IPv4 address, have %q", ErrTypeMismatch, r.value())
		}
	case TypeIPv6:
		if !r.Addr.Is6() || r.Addr.Is4In6() || r.Addr.Zone() != "" {
			return fmt.Errorf("%w: type 2 needs an IPv6 address, have %q", ErrTypeMismatch, r.value())
		}
	case TypeName:
		if _, ok := dns.IsDomainName(r.Name); !ok || !dns.IsFqdn(r.Name) {
			return fmt.Errorf("%w: type 3 needs a fully qualified domain name, have %q", ErrTypeMismatch, r.Name)
		}
		if _, err := netip.ParseAddr(strings.TrimSuffix(r.Name, ".")); err == nil {
			return fmt.Errorf("%w: type 3 needs a domain name, have the address %q (use type 1 or 2)", ErrTypeMismatch, r.Name)
		}
	default:
		if r.Type > MaxType {
			return fmt.Errorf("%w: type %d does not fit the 7-bit type field", ErrUnknownType, r.Type)
		}
	}
	return nil
}

// Len returns the RDATA length of r in octets.
func (r Relay) Len() int {
	switch r.Type {
	case TypeNone:
		return 2
	case TypeIPv4:
		return 2 + 4
	case TypeIPv6:
		return 2 + 16
	case TypeName:
		return 2 + nameLen(r.Name)
	default:
		return 2 + len(r.Raw)
	}
}

// Pack returns the RDATA of r (RFC 8777 §4.2): precedence, D-bit and type,
// then the relay field. Type-3 names are never compressed (§4.2.4).
func (r Relay) Pack() ([]byte, error) {
	return r.AppendPack(make([]byte, 0, r.Len()))
}

// AppendPack appends the RDATA of r to b.
func (r Relay) AppendPack(b []byte) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return b, err
	}
	second := byte(r.Type)
	if r.DiscoveryOptional {
		second |= dBit
	}
	b = append(b, r.Precedence, second)
	switch r.Type {
	case TypeNone:
	case TypeIPv4, TypeIPv6:
		b = append(b, r.Addr.AsSlice()...)
	case TypeName:
		start := len(b)
		b = append(b, make([]byte, nameLen(r.Name))...)
		off, err := dns.PackDomainName(r.Name, b[start:], 0, nil, false)
		if err != nil {
			return b[:start-2], fmt.Errorf("amtrelayrr: packing relay name %q: %w", r.Name, err)
		}
		b = b[:start+off]
	default:
		b = append(b, r.Raw...)
	}
	return b, nil
}

// Unpack decodes AMTRELAY RDATA strictly: types 0, 1 and 2 must be exactly 2,
// 6 and 18 octets long, and a type-3 name must be uncompressed and use up the
// rest of the RDATA. For unknown types it returns the record, with Raw set,
// and an error wrapping ErrUnknownType.
func Unpack(rdata []byte) (Relay, error) {
	if len(rdata) < 2 {
		return Relay{}, fmt.Errorf("%w: %d octets, need at least 2", ErrShort, len(rdata))
	}
	r := Relay{
		Precedence:        rdata[0],
		DiscoveryOptional: rdata[1]&dBit != 0,
		Type:              RelayType(rdata[1] &^ dBit),
	}
	field := rdata[2:]
	switch r.Type {
	case TypeNone:
		if len(field) != 0 {
			return Relay{}, fmt.Errorf("%w: type 0 has %d octets of relay, want 0", ErrLength, len(field))
		}
	case TypeIPv4:
		if len(field) != 4 {
			return Relay{}, fmt.Errorf("%w: type 1 has %d octets of relay, want 4", ErrLength, len(field))
		}
		r.Addr = netip.AddrFrom4([4]byte(field))
	case TypeIPv6:
		if len(field) != 16 {
			return Relay{}, fmt.Errorf("%w: type 2 has %d octets of relay, want 16", ErrLength, len(field))
		}
		r.Addr = netip.AddrFrom16([16]byte(field))
		if r.Addr.Is4In6() {
			return Relay{}, fmt.Errorf("%w: type 2 relay %s is an IPv4-mapped address, which RFC 4291 §2.5.5.2 keeps off the wire: publish the IPv4 address as type 1", ErrTypeMismatch, r.Addr)
		}
	case TypeName:
		name, err := unpackName(field)
		if err != nil {
			return Relay{}, err
		}
		r.Name = name
		// A name whose text is an address ("0::." from the one label
		// "0::") reads back as that address in presentation form, and
		// Pack refuses it: decode refuses it too, so that the two agree.
		if err := r.Validate(); err != nil {
			return Relay{}, err
		}
	default:
		r.Raw = append([]byte(nil), field...)
		return r, fmt.Errorf("%w %d", ErrUnknownType, r.Type)
	}
	return r, nil
}

// unpackName decodes an uncompressed wire-format name that must fill field.
func unpackName(field []byte) (string, error) {
	off := 0
	for {
		if off >= len(field) {
			return "", fmt.Errorf("%w: relay name has no root label", ErrShort)
		}
		l := int(field[off])
		if l&0xc0 != 0 {
			return "", ErrCompressed
		}
		off += 1 + l
		if l == 0 {
			break
		}
	}
	if off != len(field) {
		return "", fmt.Errorf("%w: %d octets follow the relay name", ErrLength, len(field)-off)
	}
	name, _, err := dns.UnpackDomainName(field, 0)
	if err != nil {
		return "", fmt.Errorf("amtrelayrr: relay name: %w", err)
	}
	return name, nil
}

// nameLen is the uncompressed wire length of a fully qualified name.
func nameLen(name string) int {
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return 0
	}
	return off
}

// String returns the presentation form of RFC 8777 §4.3.1, such as
// "10 0 1 203.0.113.15" or "0 0 0 .".
func (r Relay) String() string {
	d := "0"
	if r.DiscoveryOptional {
		d = "1"
	}
	return strconv.Itoa(int(r.Precedence)) + " " + d + " " + strconv.Itoa(int(r.Type)) + " " + r.value()
}

// value is the presentation form of the relay field alone.
func (r Relay) value() string {
	switch r.Type {
	case TypeIPv4, TypeIPv6:
		if !r.Addr.IsValid() {
			return ""
		}
		return r.Addr.String()
	case TypeName:
		return r.Name
	case TypeNone:
		return "."
	default:
		return fmt.Sprintf("\\# %d %x", len(r.Raw), r.Raw)
	}
}

// Parse reads the presentation form "precedence D-bit type relay" of
// RFC 8777 §4.3.1, using miekg/dns's zone parser. Relative type-3 names are
// made fully qualified. A relay that does not match its type is an error
// wrapping ErrTypeMismatch.
func Parse(s string) (Relay, error) {
	fields := strings.Fields(s)
	if len(fields) != 4 {
		return Relay{}, fmt.Errorf("amtrelayrr: %q: want 4 fields \"precedence D-bit type relay\" (RFC 8777 §4.3.1), have %d", s, len(fields))
	}
	t, err := strconv.ParseUint(fields[2], 10, 8)
	if err != nil || t > MaxType {
		return Relay{}, fmt.Errorf("amtrelayrr: %q: relay type %q is not a number from 0 to %d", s, fields[2], MaxType)
	}
	if err := checkValueFitsType(RelayType(t), fields[3]); err != nil {
		return Relay{}, err
	}
	rr, err := dns.NewRR(". 0 IN AMTRELAY " + s)
	if err != nil {
		return Relay{}, fmt.Errorf("amtrelayrr: %q: %w", s, err)
	}
	return FromRR(rr)
}

// checkValueFitsType catches values that miekg/dns's parser would accept for
// the wrong type, such as an IPv4 address given as a type-3 name.
func checkValueFitsType(t RelayType, value string) error {
	addr, err := netip.ParseAddr(value)
	isAddr := err == nil
	switch t {
	case TypeNone:
		if value != "." {
			return fmt.Errorf("%w: type 0 needs the relay \".\" (RFC 8777 §4.3.1), have %q", ErrTypeMismatch, value)
		}
	case TypeIPv4:
		if !isAddr || !addr.Is4() {
			return fmt.Errorf("%w: type 1 needs an IPv4 address, have %q", ErrTypeMismatch, value)
		}
	case TypeIPv6:
		if !isAddr || !addr.Is6() || addr.Is4In6() {
			return fmt.Errorf("%w: type 2 needs an IPv6 address, have %q", ErrTypeMismatch, value)
		}
	case TypeName:
		if isAddr {
			return fmt.Errorf("%w: type 3 needs a domain name, have the address %q (use type 1 or 2)", ErrTypeMismatch, value)
		}
	default:
		return fmt.Errorf("%w %d: only types 0-3 are defined (RFC 8777 §4.2.3)", ErrUnknownType, t)
	}
	return nil
}
