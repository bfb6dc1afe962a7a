package gatewayresolver

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/amtrelay/amtrelay/amt"
)

// DefaultSourceFor asks the kernel which source address it would use to
// send to dst on the AMT port: it connects a UDP socket, which sends no
// packet, and reads its local address. PrefixLen comes from the interface
// holding that address. Rules 3, 4 and 7 of RFC 6724 §6 need data the
// kernel does not report here, so Deprecated, Home, CareOf and Encapsulated
// stay false.
func DefaultSourceFor(dst netip.Addr) (Source, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, amt.Port)))
	if err != nil {
		return Source{}, fmt.Errorf("no route to %v: %w", dst, err)
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	conn.Close()
	return Source{Addr: local, PrefixLen: prefixLen(local)}, nil
}

// prefixLen returns the prefix length configured with a on an interface, or
// 0 when it is not found.
func prefixLen(a netip.Addr) int {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0
	}
	for _, ia := range addrs {
		ipn, ok := ia.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || ip.Unmap() != a.WithZone("") {
			continue
		}
		ones, _ := ipn.Mask.Size()
		return ones
	}
	return 0
}
