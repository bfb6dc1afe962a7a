package gatewayresolver

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ReverseName returns the reverse-mapping name DRIAD queries for a source
// (RFC 8777 §2.2, §3.4): in-addr.arpa for IPv4 (RFC 1035 §3.5), nibbles under
// ip6.arpa for IPv6 (RFC 3596 §2.5). An IPv4-mapped IPv6 address counts as
// IPv4. The source must be a unicast address.
//
//	198.51.100.12 → 12.100.51.198.in-addr.arpa.
//	2001:db8::a   → a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.
func ReverseName(source netip.Addr) (string, error) {
	if err := checkSource(source); err != nil {
		return "", err
	}
	source = source.Unmap()
	var b strings.Builder
	if source.Is4() {
		a := source.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String(), nil
	}
	const hex = "0123456789abcdef"
	a := source.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[a[i]&0x0f])
		b.WriteByte('.')
		b.WriteByte(hex[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String(), nil
}

// checkSource rejects what cannot be an SSM source.
func checkSource(source netip.Addr) error {
	switch {
	case !source.IsValid():
		return fmt.Errorf("%w: no address", ErrBadSource)
	case source.Unmap().IsUnspecified(), source.IsMulticast(), source.Unmap() == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%w: %v", ErrBadSource, source)
	}
	return nil
}
