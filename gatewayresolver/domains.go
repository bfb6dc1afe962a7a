package gatewayresolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// domainSet is the browsing domains of one lookup: at most 8, in the
// order they became known, each browsed once.
type domainSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

// add reports whether d is new and fits the cap. "." and "local." (mDNS)
// are never browsed.
func (s *domainSet) add(d string) bool {
	d = dns.CanonicalName(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if d == "." || d == "local." || s.seen[d] || len(s.seen) >= maxDNSSDDomains {
		return false
	}
	s.seen[d] = true
	return true
}

// enumerationQueries are the RFC 6763 §11 Domain Enumeration names a
// browsing gateway asks under each domain: the domains recommended for
// browsing, and the "automatic browsing" domains meant for software that
// browses without asking a user.
var enumerationQueries = []string{"b._dns-sd._udp.", "lb._dns-sd._udp."}

// enumerate asks the PTR records of RFC 6763 §11 Domain Enumeration under
// base and hands each domain named to found as soon as its answer comes.
func (t *tierRun) enumerate(ctx context.Context, base string, found func(string)) {
	var wg sync.WaitGroup
	for _, q := range enumerationQueries {
		wg.Go(func() {
			name := q + dns.Fqdn(base)
			ans, err := t.lookup(ctx, name, dns.TypePTR)
			if err != nil {
				t.note(fmt.Errorf("domain enumeration %s: %w", name, err))
				return
			}
			for _, rr := range ans.RRs {
				if ptr, ok := rr.(*dns.PTR); ok {
					found(ptr.Ptr)
				}
			}
		})
	}
	wg.Wait()
}

// subnetDomains returns the reverse-mapping names of the host's subnets
// (RFC 6763 §11 address-derived Domain Enumeration): each address ANDed
// with its mask, reversed. Link-local addresses are skipped, as §11 says,
// and so are loopback ones, which name no network.
func (r *Resolver) subnetDomains() ([]string, error) {
	get := r.InterfaceAddrs
	if get == nil {
		get = interfaceAddrs
	}
	prefixes, err := get()
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[netip.Prefix]bool{}
	for _, p := range prefixes {
		a, bits := p.Addr(), p.Bits()
		if a.Is4In6() {
			a, bits = a.Unmap(), bits-96
		}
		if !a.IsValid() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
			continue
		}
		base := netip.PrefixFrom(a, bits).Masked()
		if !base.IsValid() || seen[base] {
			continue
		}
		seen[base] = true
		name, err := ReverseName(base.Addr())
		if err != nil {
			// The subnet's base address is not a unicast address (an
			// IPv4 /0, say): it has no reverse name worth asking.
			continue
		}
		out = append(out, name)
	}
	return out, nil
}

// interfaceAddrs is the host's addresses with their prefix lengths.
func interfaceAddrs() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, ia := range addrs {
		ipn, ok := ia.(*net.IPNet)
		if !ok {
			continue
		}
		a, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, bits := ipn.Mask.Size()
		if a.Is4In6() && bits == 8*net.IPv6len {
			ones -= 96
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), ones))
	}
	return out, nil
}
