package gatewayresolver

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// TierDNSSD is DNS-based Service Discovery of _amt._udp relays (RFC 6763,
// RFC 8777 §3.1.2): the first tier, since it finds relays local to the
// receiver. Unicast DNS only.
const TierDNSSD Tier = 1

// serviceName is the DNS-SD service AMT relays register (RFC 8777 §3.1.2).
const serviceName = "_amt._udp"

func init() {
	registerTier(TierDNSSD, tierSpec{name: "dns-sd", byDefault: true, dns: true, run: runDNSSD})
}

// runDNSSD browses _amt._udp in each domain as soon as it is known: the
// configured DNSSDDomains, or the search list, then the domains RFC 6763
// §11 Domain Enumeration names (b and lb PTR records under each search
// domain and under the reverse name of each subnet of the host), at most
// 8 in all.
func runDNSSD(ctx context.Context, t *tierRun) {
	var wg sync.WaitGroup
	var domains domainSet
	targets := &targetSet{m: map[string]*target{}}
	browse := func(d string) {
		if domains.add(d) {
			wg.Go(func() { t.browse(ctx, dns.Fqdn(d), targets) })
		}
	}
	if t.r.DNSSDDomains != nil {
		for _, d := range t.r.DNSSDDomains {
			browse(d)
		}
		wg.Wait()
		return
	}
	search := t.s.search
	if len(search) > maxDNSSDDomains {
		search = search[:maxDNSSDDomains]
	}
	for _, d := range search {
		browse(d)
	}
	bases := append([]string(nil), search...)
	subnets, err := t.r.subnetDomains()
	if err != nil {
		t.note(fmt.Errorf("address-derived domain enumeration (RFC 6763 §11): %w", err))
	}
	bases = append(bases, subnets...)
	for _, base := range bases {
		wg.Go(func() { t.enumerate(ctx, base, browse) })
	}
	wg.Wait()
}

// browse finds the instances of _amt._udp in domain (PTR), then each
// instance's SRV and TXT records at once, then the targets' addresses:
// from the SRV reply's Additional section when it has them, by AAAA and A
// queries otherwise (RFC 6763 §4-§6, §12; RFC 8777 §3.2.2). Each address
// becomes a candidate as soon as it is known; the TXT strings follow when
// they come and never hold a candidate back. A target of "." means no
// service (RFC 2782) and a port of 0 is skipped.
func (t *tierRun) browse(ctx context.Context, domain string, targets *targetSet) {
	name := serviceName + "." + domain
	ans, err := t.lookup(ctx, name, dns.TypePTR)
	if err != nil {
		t.note(fmt.Errorf("PTR %s: %w", name, err))
		return
	}
	var wg sync.WaitGroup
	n := 0
	for _, rr := range ans.RRs {
		ptr, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		if n == maxInstances {
			t.note(fmt.Errorf("PTR %s: more than %d instances, the rest skipped", name, maxInstances))
			break
		}
		n++
		instance := dns.Fqdn(ptr.Ptr)
		wg.Go(func() { t.txt(ctx, instance) })
		wg.Go(func() { t.srv(ctx, instance, min(ans.TTL, ptr.Hdr.Ttl), targets) })
	}
	wg.Wait()
}

// txt fetches an instance's TXT strings, which are informative: a relay is
// usable without them.
func (t *tierRun) txt(ctx context.Context, instance string) {
	ans, err := t.lookup(ctx, instance, dns.TypeTXT)
	if err != nil {
		return
	}
	var txt []string
	for _, rr := range ans.RRs {
		if r, ok := rr.(*dns.TXT); ok {
			txt = append(txt, r.Txt...)
		}
	}
	if txt != nil {
		t.f.setTXT(instance, txt)
	}
}

// srv fetches an instance's SRV records and turns each target into
// candidates.
func (t *tierRun) srv(ctx context.Context, instance string, ttl uint32, targets *targetSet) {
	ans, err := t.lookup(ctx, instance, dns.TypeSRV)
	if err != nil {
		t.note(fmt.Errorf("SRV %s: %w", instance, err))
		return
	}
	var wg sync.WaitGroup
	n := 0
	for _, rr := range ans.RRs {
		srv, ok := rr.(*dns.SRV)
		if !ok || srv.Target == "." || srv.Port == 0 {
			continue
		}
		if n == maxInstances {
			break
		}
		n++
		c := Candidate{
			Priority: srv.Priority, Weight: srv.Weight, Name: dns.Fqdn(srv.Target),
			Instance: instance, TTL: min(ttl, ans.TTL, srv.Hdr.Ttl),
		}
		if extra := additionalAddrs(ans.Msg.Extra, srv.Target); len(extra) > 0 {
			for _, a := range extra {
				c := c
				c.Addr = netip.AddrPortFrom(a, srv.Port)
				t.add(c)
			}
			continue
		}
		wg.Go(func() { targets.resolve(ctx, t, c, srv.Port) })
	}
	wg.Wait()
	if n == 0 {
		t.note(fmt.Errorf("SRV %s: no usable target (RFC 2782: \".\" or port 0 means none)", instance))
	}
}

// targetSet resolves each SRV target once per lookup, however many SRV
// records name it, and gives every user each address as it comes.
type targetSet struct {
	mu sync.Mutex
	m  map[string]*target
}

type target struct {
	batches []addrBatch
	err     error
	users   []targetUser
	wait    chan struct{} // closed when done
}

type targetUser struct {
	c    Candidate
	port uint16
}

// resolve makes candidates for c (an SRV record's target at port) from
// the target's addresses, and an unresolved candidate when there are none.
// It returns when the target's resolution has ended.
func (s *targetSet) resolve(ctx context.Context, t *tierRun, c Candidate, port uint16) {
	key := canonical(c.Name)
	u := targetUser{c, port}
	s.mu.Lock()
	tg, running := s.m[key]
	if !running {
		tg = &target{wait: make(chan struct{})}
		s.m[key] = tg
	}
	past := tg.batches
	tg.users = append(tg.users, u)
	s.mu.Unlock()
	for _, b := range past {
		u.add(t, b)
	}
	if running {
		<-tg.wait
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(tg.batches) == 0 {
			u.unresolved(t, tg.err)
		}
		return
	}
	err := t.resolve(ctx, c.Name, func(b addrBatch) {
		s.mu.Lock()
		tg.batches = append(tg.batches, b)
		users := append([]targetUser(nil), tg.users...)
		s.mu.Unlock()
		for _, u := range users {
			u.add(t, b)
		}
	})
	s.mu.Lock()
	tg.err = err
	s.mu.Unlock()
	close(tg.wait)
	if err != nil {
		u.unresolved(t, err)
	}
}

func (u targetUser) add(t *tierRun, b addrBatch) {
	cs := make([]Candidate, len(b.addrs))
	for i, a := range b.addrs {
		cs[i] = u.c
		cs[i].Addr, cs[i].TTL = netip.AddrPortFrom(a, u.port), min(u.c.TTL, b.ttl)
	}
	t.addAll(cs)
}

func (u targetUser) unresolved(t *tierRun, err error) {
	c := u.c
	c.Reason = "SRV target did not resolve: " + oneLine(err)
	t.add(c)
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
