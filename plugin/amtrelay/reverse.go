package amtrelay

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/coredns/coredns/plugin/pkg/cidr"
	"github.com/coredns/coredns/plugin/pkg/dnsutil"

	"github.com/miekg/dns"
)

// seedLabel is the first label of the seed-style name amt.<reverse name>,
// whose A and AAAA records name the first-ranked relays.
const seedLabel = "amt."

// parseReverse returns the prefix a name under in-addr.arpa. or ip6.arpa.
// stands for: a whole address (/32, /128) or, for a shorter name, the
// octet- or nibble-aligned prefix of which it is an ancestor (RFC 1035
// §3.5, RFC 3596 §2.5). ok is false for names that are not in a reverse
// tree or have a label that is not a canonical octet or nibble: such names
// cannot exist. name must be lowercase and fully qualified. It does not
// allocate.
func parseReverse(name string) (p netip.Prefix, ok bool) {
	var rest string
	switch {
	case strings.HasSuffix(name, dnsutil.IP4arpa[1:]):
		rest = name[:len(name)-len(dnsutil.IP4arpa)+1]
		return parseReverse4(rest)
	case strings.HasSuffix(name, dnsutil.IP6arpa[1:]):
		rest = name[:len(name)-len(dnsutil.IP6arpa)+1]
		return parseReverse6(rest)
	}
	return netip.Prefix{}, false
}

// parseReverse4 parses "12.100.51.198." (labels least significant first).
func parseReverse4(rest string) (netip.Prefix, bool) {
	var b [4]byte
	n := 0
	for rest != "" {
		if rest[len(rest)-1] != '.' {
			return netip.Prefix{}, false
		}
		// take the last label
		end := len(rest) - 1 // the trailing dot
		start := strings.LastIndexByte(rest[:end], '.') + 1
		label := rest[start:end]
		rest = rest[:start]
		if n == 4 || !octet(label, &b[n]) {
			return netip.Prefix{}, false
		}
		n++
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*n), true
}

// octet parses a canonical decimal octet: 0-255, no leading zeros.
func octet(s string, out *byte) bool {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		v = v*10 + int(s[i]-'0')
	}
	if v > 255 {
		return false
	}
	*out = byte(v)
	return true
}

// parseReverse6 parses "a.0.0.[...].8.b.d.0.1.0.0.2." (nibbles least
// significant first).
func parseReverse6(rest string) (netip.Prefix, bool) {
	var b [16]byte
	n := 0
	for rest != "" {
		if len(rest) < 2 || rest[len(rest)-1] != '.' || (len(rest) > 2 && rest[len(rest)-3] != '.') {
			return netip.Prefix{}, false
		}
		v, ok := nibble(rest[len(rest)-2])
		if !ok || n == 32 {
			return netip.Prefix{}, false
		}
		b[n/2] |= v << (4 * (1 - n%2))
		n++
		rest = rest[:len(rest)-2]
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 4*n), true
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// fullLength is the prefix length of a whole address of p's family.
func fullLength(p netip.Prefix) int { return p.Addr().BitLen() }

// labelBits is the number of address bits one reverse label holds.
func labelBits(a netip.Addr) int {
	if a.Is4() {
		return 8
	}
	return 4
}

// coveringZone returns the reverse zone that holds every name of p: the
// zone of p rounded down to an octet (IPv4) or nibble (IPv6) boundary. For
// 203.0.113.128/25 it is 113.0.203.in-addr.arpa.
func coveringZone(p netip.Prefix) string {
	step := labelBits(p.Addr())
	rounded := netip.PrefixFrom(p.Addr(), p.Bits()/step*step).Masked()
	return cidr.Reverse([]string{rounded.String()})[0]
}

// derivedZones returns the reverse zones that cover prefixes, leaving out
// any zone inside another.
func derivedZones(prefixes []netip.Prefix) []string {
	var zones []string
	for _, p := range prefixes {
		zones = append(zones, coveringZone(p))
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)
	set := newZoneSet(slices.Clone(zones))
	return slices.DeleteFunc(zones, set.hasAncestor)
}

// covered reports whether every name of p lies in one of zones.
func covered(p netip.Prefix, zones zoneSet) bool {
	_, n, err := net.ParseCIDR(p.String())
	if err != nil {
		return false
	}
	for _, name := range cidr.Reverse(cidr.Split(n)) {
		if zones.match(dns.CanonicalName(name)) == "" {
			return false
		}
	}
	return true
}
