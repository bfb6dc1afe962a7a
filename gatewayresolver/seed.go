package gatewayresolver

import (
	"context"
	"fmt"
	"net/netip"
)

// TierSeed is the procedure DRIAD grew out of: A and AAAA records at
// amt.<reverse name>, for networks that still deploy it. Its candidates
// need Relay Discovery and have no precedence. Not used unless
// Resolver.Tiers names it.
const TierSeed Tier = 4

func init() {
	registerTier(TierSeed, tierSpec{name: "seed", needsSource: true, dns: true, run: runSeed})
}

func runSeed(ctx context.Context, t *tierRun) {
	name := "amt." + t.reverse
	port := t.r.port()
	err := t.resolve(ctx, name, func(b addrBatch) {
		cs := make([]Candidate, len(b.addrs))
		for i, a := range b.addrs {
			cs[i] = Candidate{Addr: netip.AddrPortFrom(a, port), Name: name, TTL: b.ttl}
		}
		t.addAll(cs)
	})
	if err != nil {
		t.note(fmt.Errorf("%s: %w", name, err))
	}
}
