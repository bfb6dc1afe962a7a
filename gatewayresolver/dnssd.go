package gatewayresolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ServiceName is the DNS-SD service AMT relays register (RFC 8777 §3.1.2).
const ServiceName = "_amt._udp"

// dnssdDomains returns the domains to browse: DNSSDDomains when set;
// otherwise the search list and the domains its b._dns-sd._udp PTR records
// recommend (RFC 6763 §11), at most DefaultMaxDNSSDDomains. This is unicast
// DNS; "local." (mDNS) is not browsed.
func (s *session) dnssdDomains(ctx context.Context) ([]string, []Note) {
	var domains []string
	add := func(d string) {
		d = dns.Fqdn(strings.ToLower(d))
		if d == "." || d == "local." || len(domains) >= DefaultMaxDNSSDDomains {
			return
		}
		for _, x := range domains {
			if x == d {
				return
			}
		}
		domains = append(domains, d)
	}
	if s.r.DNSSDDomains != nil {
		for _, d := range s.r.DNSSDDomains {
			add(d)
		}
		return domains, nil
	}
	search := s.search
	if len(search) > DefaultMaxDNSSDDomains {
		search = search[:DefaultMaxDNSSDDomains]
	}
	browse := make([][]string, len(search))
	errs := make([]error, len(search))
	var wg sync.WaitGroup
	for i, d := range search {
		wg.Go(func() {
			ans, err := s.lookup(ctx, "b._dns-sd._udp."+dns.Fqdn(d), dns.TypePTR)
			if err != nil {
				errs[i] = err
				return
			}
			for _, rr := range ans.RRs {
				if ptr, ok := rr.(*dns.PTR); ok {
					browse[i] = append(browse[i], ptr.Ptr)
				}
			}
		})
	}
	wg.Wait()
	var notes []Note
	for i, d := range search {
		add(d)
		for _, b := range browse[i] {
			add(b)
		}
		if errs[i] != nil {
			notes = append(notes, Note{TierDNSSD, fmt.Errorf("browsing-domain lookup: %w", errs[i])})
		}
	}
	return domains, notes
}

// instance is one DNS-SD service instance and what its SRV and TXT
// records say.
type instance struct {
	name  string
	srvs  []*dns.SRV
	txt   []string
	extra []dns.RR // the SRV reply's Additional section
	err   error
}

// dnssd browses _amt._udp in each domain: PTR for the instances, then SRV
// and TXT for each, then the targets' addresses, from the SRV reply's
// Additional section when it has them and by AAAA and A queries otherwise
// (RFC 6763 §4-§6, §12; RFC 8777 §3.2.2). A target of "." means no service
// (RFC 2782) and a port of 0 is skipped.
func (s *session) dnssd(ctx context.Context) ([]Candidate, []Note) {
	domains, notes := s.dnssdDomains(ctx)
	perDomain := make([][]*instance, len(domains))
	var wg sync.WaitGroup
	for i, d := range domains {
		wg.Go(func() {
			ans, err := s.lookup(ctx, ServiceName+"."+d, dns.TypePTR)
			if err != nil {
				perDomain[i] = []*instance{{name: ServiceName + "." + d, err: err}}
				return
			}
			var insts []*instance
			for _, rr := range ans.RRs {
				ptr, ok := rr.(*dns.PTR)
				if !ok {
					continue
				}
				if len(insts) == DefaultMaxInstances {
					break
				}
				insts = append(insts, &instance{name: dns.Fqdn(ptr.Ptr)})
			}
			var iwg sync.WaitGroup
			for _, in := range insts {
				iwg.Go(func() { s.describe(ctx, in) })
			}
			iwg.Wait()
			perDomain[i] = insts
		})
	}
	wg.Wait()

	// Resolve every target without addresses at once.
	type target struct {
		addrs []netip.Addr
		err   error
	}
	targets := map[string]*target{}
	var order []string
	for _, insts := range perDomain {
		for _, in := range insts {
			for _, srv := range in.srvs {
				key := canonical(srv.Target)
				if _, ok := targets[key]; ok {
					continue
				}
				t := &target{addrs: additionalAddrs(in.extra, srv.Target)}
				targets[key] = t
				if len(t.addrs) == 0 {
					order = append(order, srv.Target)
				}
			}
		}
	}
	for _, name := range order {
		t := targets[canonical(name)]
		wg.Go(func() { t.addrs, t.err = s.resolveName(ctx, name) })
	}
	wg.Wait()

	var out []Candidate
	for _, insts := range perDomain {
		for _, in := range insts {
			if in.err != nil {
				notes = append(notes, Note{TierDNSSD, in.err})
				continue
			}
			for _, srv := range in.srvs {
				c := Candidate{
					Tier: TierDNSSD, Priority: srv.Priority, Weight: srv.Weight,
					Name: dns.Fqdn(srv.Target), Instance: in.name, TXT: in.txt,
				}
				t := targets[canonical(srv.Target)]
				if len(t.addrs) == 0 {
					c.Reason = "SRV target did not resolve: " + oneLine(t.err)
					out = append(out, c)
					continue
				}
				for _, a := range t.addrs {
					c.Addr = netip.AddrPortFrom(a, srv.Port)
					out = append(out, c)
				}
			}
		}
	}
	return out, notes
}

// describe fetches an instance's SRV and TXT records at once.
func (s *session) describe(ctx context.Context, in *instance) {
	var wg sync.WaitGroup
	var txtErr error
	wg.Go(func() {
		ans, err := s.lookup(ctx, in.name, dns.TypeTXT)
		if err != nil {
			txtErr = err
			return
		}
		for _, rr := range ans.RRs {
			if t, ok := rr.(*dns.TXT); ok {
				in.txt = append(in.txt, t.Txt...)
			}
		}
	})
	ans, err := s.lookup(ctx, in.name, dns.TypeSRV)
	wg.Wait()
	_ = txtErr // TXT is informative; a relay is usable without it
	if err != nil {
		in.err = fmt.Errorf("SRV %s: %w", in.name, err)
		return
	}
	for _, rr := range ans.RRs {
		srv, ok := rr.(*dns.SRV)
		if !ok || srv.Target == "." || srv.Port == 0 {
			continue
		}
		if len(in.srvs) == DefaultMaxInstances {
			break
		}
		in.srvs = append(in.srvs, srv)
	}
	if len(in.srvs) == 0 {
		in.err = fmt.Errorf("SRV %s: no usable target (RFC 2782: \".\" or port 0 means none)", in.name)
	}
	in.extra = ans.Msg.Extra
}

// additionalAddrs returns the addresses the Additional section gives for
// target: only A and AAAA records owned by the target itself are believed.
func additionalAddrs(extra []dns.RR, target string) []netip.Addr {
	var own []dns.RR
	for _, rr := range extra {
		if sameName(rr.Header().Name, target) {
			own = append(own, rr)
		}
	}
	return append(addrsOf(own, dns.TypeAAAA), addrsOf(own, dns.TypeA)...)
}
