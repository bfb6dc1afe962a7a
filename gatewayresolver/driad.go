package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// MaxRelayNames bounds the type-3 names resolved for one source.
const MaxRelayNames = 8

// driad looks up the AMTRELAY records of the source's reverse name,
// following CNAME and DNAME chains (RFC 8777 §3.4), and decodes each with
// the shared codec, since miekg/dns cannot unpack records with the D-bit
// set. Records of unknown type (RFC 8777 §4.2.3) or with bad RDATA are
// skipped with a note. noRelay reports a type-0 record.
func (s *session) driad(ctx context.Context, reverse string) (relays []amtrelayrr.Relay, noRelay bool, notes []Note, err error) {
	ans, err := s.lookup(ctx, reverse, dns.TypeAMTRELAY)
	if err != nil {
		return nil, false, nil, fmt.Errorf("AMTRELAY %s: %w", reverse, err)
	}
	for _, rr := range ans.RRs {
		relay, err := amtrelayrr.FromRR(rr)
		switch {
		case errors.Is(err, amtrelayrr.ErrUnknownType):
			notes = append(notes, Note{TierDRIAD, fmt.Errorf("skipped AMTRELAY record of unknown relay type %d (RFC 8777 §4.2.3)", relay.Type)})
			continue
		case err != nil:
			notes = append(notes, Note{TierDRIAD, fmt.Errorf("skipped malformed AMTRELAY record at %s: %w", rr.Header().Name, err)})
			continue
		}
		switch relay.Type {
		case amtrelayrr.TypeNone:
			noRelay = true
		case amtrelayrr.TypeIPv4, amtrelayrr.TypeIPv6:
			if !usableRelayAddr(relay.Addr) {
				notes = append(notes, Note{TierDRIAD, fmt.Errorf("skipped AMTRELAY record %q: %v cannot be a relay", relay, relay.Addr)})
				continue
			}
		}
		relays = append(relays, relay)
	}
	if len(ans.Chain) > 0 {
		notes = append(notes, Note{TierDRIAD, fmt.Errorf("followed %s → %s (RFC 8777 §3.4)", strings.TrimSuffix(reverse, "."), strings.Join(trimDots(ans.Chain), " → "))})
	}
	return relays, noRelay, notes, nil
}

// driadCandidates turns AMTRELAY records into candidates, resolving type-3
// names to AAAA and A at once; the precedence and D-bit carry over to every
// address of a name (RFC 8777 §4.2.4). A name that does not resolve stays
// as an unusable candidate without an address.
func (s *session) driadCandidates(ctx context.Context, relays []amtrelayrr.Relay) ([]Candidate, []Note) {
	port := s.r.port()
	var out []Candidate
	var notes []Note
	type named struct {
		relay amtrelayrr.Relay
		addrs []netip.Addr
		err   error
	}
	var names []*named
	for _, relay := range relays {
		switch relay.Type {
		case amtrelayrr.TypeIPv4, amtrelayrr.TypeIPv6:
			out = append(out, Candidate{
				Addr: netip.AddrPortFrom(relay.Addr, port), Tier: TierDRIAD,
				Precedence: relay.Precedence, DiscoveryOptional: relay.DiscoveryOptional,
			})
		case amtrelayrr.TypeName:
			if len(names) == MaxRelayNames {
				notes = append(notes, Note{TierDRIAD, fmt.Errorf("skipped relay name %s: more than %d names", relay.Name, MaxRelayNames)})
				continue
			}
			names = append(names, &named{relay: relay})
		}
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() { n.addrs, n.err = s.resolveName(ctx, n.relay.Name) })
	}
	wg.Wait()
	for _, n := range names {
		c := Candidate{Tier: TierDRIAD, Precedence: n.relay.Precedence, DiscoveryOptional: n.relay.DiscoveryOptional, Name: n.relay.Name}
		if len(n.addrs) == 0 {
			c.Reason = "relay name did not resolve: " + oneLine(n.err)
			out = append(out, c)
			continue
		}
		for _, a := range n.addrs {
			c.Addr = netip.AddrPortFrom(a, port)
			out = append(out, c)
		}
	}
	return out, notes
}

func trimDots(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(n, ".")
	}
	return out
}
