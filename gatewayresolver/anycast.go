package gatewayresolver

import (
	"context"
	"net/netip"

	"github.com/amtrelay/amtrelay/amt"
)

// TierAnycast is the AMT anycast Relay Discovery Addresses, 192.52.193.1
// and 2001:3::1 (RFC 7450 §4.1.5.2, §7), which RFC 8777 §3.1.2 puts after
// DNS-SD and before DRIAD. Like any candidate they need Relay Discovery:
// the Advertisement names the relay. They are known at once, without DNS.
const TierAnycast Tier = 2

func init() {
	registerTier(TierAnycast, tierSpec{name: "anycast", byDefault: true, run: runAnycast})
}

func runAnycast(_ context.Context, t *tierRun) {
	port := t.r.port()
	t.addAll([]Candidate{{Addr: netip.AddrPortFrom(amt.AnycastIPv6, port)}, {Addr: netip.AddrPortFrom(amt.AnycastIPv4, port)}})
}
