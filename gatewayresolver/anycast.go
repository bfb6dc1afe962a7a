package gatewayresolver

import (
	"net/netip"

	"github.com/amtrelay/amtrelay/amt"
)

// anycastCandidates returns the Relay Discovery Addresses of the AMT
// anycast prefixes, 192.52.193.1 and 2001:3::1 (RFC 7450 §4.1.5.2, §7),
// which RFC 8777 §3.1.2 puts after DNS-SD and before DRIAD. Like any
// candidate they need Relay Discovery: the Advertisement names the relay.
func (r *Resolver) anycastCandidates() []Candidate {
	port := r.port()
	return []Candidate{
		{Addr: netip.AddrPortFrom(amt.AnycastIPv6, port), Tier: TierAnycast},
		{Addr: netip.AddrPortFrom(amt.AnycastIPv4, port), Tier: TierAnycast},
	}
}
