package gatewayresolver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// TierDRIAD is the AMTRELAY records (RFC 8777 §4) of the source's reverse
// name (§2.2), the last tier of §3.1.2, ordered by precedence.
const TierDRIAD Tier = 3

func init() {
	registerTier(TierDRIAD, tierSpec{name: "driad", byDefault: true, needsSource: true, dns: true, run: runDRIAD})
}

// runDRIAD looks up the AMTRELAY records of the source's reverse name,
// following CNAME and DNAME chains (RFC 8777 §3.4), decodes each with the
// shared codec (miekg/dns cannot unpack records with the D-bit set), hands
// over the type-1 and type-2 relays at once and resolves the type-3 names
// at once, each address joining as it arrives. Records of unknown type
// (§4.2.3) or with bad RDATA are skipped with a note. A type-0 record
// means no relay for this source.
func runDRIAD(ctx context.Context, t *tierRun) {
	ans, err := t.lookup(ctx, t.reverse, dns.TypeAMTRELAY)
	t.f.setRcode(ans.Rcode)
	if err != nil {
		t.note(fmt.Errorf("AMTRELAY %s: %w", t.reverse, err))
		return
	}
	if len(ans.Chain) > 0 {
		t.note(fmt.Errorf("followed %s → %s (RFC 8777 §3.4)", strings.TrimSuffix(t.reverse, "."), strings.Join(trimDots(ans.Chain), " → ")))
	}
	type record struct {
		amtrelayrr.Relay
		ttl uint32
	}
	var relays []record
	noRelay := false
	for _, rr := range ans.RRs {
		relay, err := amtrelayrr.FromRR(rr)
		switch {
		case errors.Is(err, amtrelayrr.ErrUnknownType):
			t.note(fmt.Errorf("skipped AMTRELAY record of unknown relay type %d (RFC 8777 §4.2.3)", relay.Type))
			continue
		case err != nil:
			t.note(fmt.Errorf("skipped malformed AMTRELAY record at %s: %w", rr.Header().Name, err))
			continue
		}
		switch relay.Type {
		case amtrelayrr.TypeNone:
			noRelay = true
		case amtrelayrr.TypeIPv4, amtrelayrr.TypeIPv6:
			if !usableRelayAddr(relay.Addr) {
				t.note(fmt.Errorf("skipped AMTRELAY record %q: %v cannot be a relay", relay, relay.Addr))
				continue
			}
		case amtrelayrr.TypeName:
			if relay.Name == "." {
				t.note(fmt.Errorf("skipped AMTRELAY record %q: the root is not a relay name", relay))
				continue
			}
		}
		relays = append(relays, record{relay, min(rr.Header().Ttl, ans.TTL)})
	}
	if noRelay {
		t.f.setNoRelay()
		return
	}

	port := t.r.port()
	var names []record
	var direct []Candidate
	for _, relay := range relays {
		switch relay.Type {
		case amtrelayrr.TypeIPv4, amtrelayrr.TypeIPv6:
			direct = append(direct, Candidate{
				Addr:       netip.AddrPortFrom(relay.Addr, port),
				Precedence: relay.Precedence, DiscoveryOptional: relay.DiscoveryOptional, TTL: relay.ttl,
			})
		case amtrelayrr.TypeName:
			names = append(names, relay)
		}
	}
	// The answer's addresses go in together: the race must not start a
	// precedence-1 relay because it came first in a rotated answer.
	t.addAll(direct)
	// The cap keeps the names a gateway would try first.
	slices.SortStableFunc(names, func(a, b record) int { return cmp.Compare(a.Precedence, b.Precedence) })
	if len(names) > maxRelayNames {
		for _, n := range names[maxRelayNames:] {
			t.note(fmt.Errorf("skipped relay name %s (precedence %d): more than %d names", n.Name, n.Precedence, maxRelayNames))
		}
		names = names[:maxRelayNames]
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			// RFC 8777 §4.2.4: precedence and D-bit carry over to every
			// A and AAAA record of the name.
			c := Candidate{Precedence: n.Precedence, DiscoveryOptional: n.DiscoveryOptional, Name: n.Name, TTL: n.ttl}
			err := t.resolve(ctx, n.Name, func(b addrBatch) {
				cs := make([]Candidate, len(b.addrs))
				for i, a := range b.addrs {
					cs[i] = c
					cs[i].Addr, cs[i].TTL = netip.AddrPortFrom(a, port), min(c.TTL, b.ttl)
				}
				t.addAll(cs)
			})
			if err != nil {
				c.Reason = "relay name did not resolve: " + oneLine(err)
				t.add(c)
			}
		})
	}
	wg.Wait()
}

func trimDots(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(n, ".")
	}
	return out
}
