package gatewayresolver

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/miekg/dns"
)

// answer is the outcome of one question after CNAME and DNAME chains were
// followed.
type answer struct {
	// RRs are the records of the asked type owned by the chain's last name.
	RRs []dns.RR
	// Msg is the last reply, for its Additional section.
	Msg *dns.Msg
	// Name is the chain's last name: the asked name when there was no chain.
	Name string
	// Chain lists the names visited after the first, in order.
	Chain []string
	// Rcode is the last reply's rcode, or -1 when no reply came.
	Rcode int
	// TTL is the smallest TTL of RRs and of the links followed.
	TTL uint32
}

// lookup asks for qtype at name and follows any CNAME and DNAME records, in
// the reply and by asking again for the chain's target, as RFC 8777 §3.4
// requires ("any CNAMEs or DNAMEs found MUST be followed"). At most
// 8 links are followed (ErrChainTooLong), a chain that
// revisits a name fails with ErrCNAMELoop, and only records on the chain are
// believed: others in the reply are ignored. NXDOMAIN and NODATA give an
// answer without records. The answer's Rcode is set even with an error,
// when a reply came.
func (s *session) lookup(ctx context.Context, name string, qtype uint16) (answer, error) {
	name = dns.Fqdn(name)
	c := chain{max: s.r.maxChainLen(), seen: map[string]bool{canonical(name): true}, ttl: math.MaxUint32}
	cur := name
	rcode := -1
	// Each round either ends or moves cur along a link, so maxChain+1
	// queries bound it.
	for range c.max + 1 {
		msg, err := s.query(ctx, cur, qtype)
		if msg != nil {
			rcode = msg.Rcode
		}
		if err != nil {
			return answer{Rcode: rcode}, err
		}
		before := len(c.names)
		last, rrs, err := c.follow(msg.Answer, cur, qtype)
		if err != nil {
			return answer{Rcode: rcode}, err
		}
		for _, n := range c.names[before:] {
			s.r.tracef("dns: followed %s → %s (RFC 8777 §3.4)", cur, n)
			cur = n
		}
		if len(rrs) > 0 || len(c.names) == before || msg.Rcode == dns.RcodeNameError {
			ttl := c.ttl
			for _, rr := range rrs {
				ttl = min(ttl, rr.Header().Ttl)
			}
			if ttl == math.MaxUint32 {
				ttl = 0
			}
			return answer{RRs: rrs, Msg: msg, Name: last, Chain: c.names, Rcode: rcode, TTL: ttl}, nil
		}
		// The server gave the link but not its target's data (typical of
		// authoritative servers): ask again for the target.
		cur = last
	}
	return answer{Rcode: rcode}, fmt.Errorf("%w: more than %d links from %s", ErrChainTooLong, c.max, name)
}

// chain tracks the links followed from one query name.
type chain struct {
	max   int
	seen  map[string]bool
	names []string
	ttl   uint32 // the smallest TTL of the links followed
}

// follow walks rrs from name along CNAME and DNAME links and returns the
// last name reached and its records of type qtype.
func (c *chain) follow(rrs []dns.RR, name string, qtype uint16) (string, []dns.RR, error) {
	cur := name
	for range len(rrs) + 1 {
		var found []dns.RR
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype && sameName(rr.Header().Name, cur) {
				found = append(found, rr)
			}
		}
		if len(found) > 0 {
			return cur, found, nil
		}
		next, ttl, ok, err := link(rrs, cur)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return cur, nil, nil
		}
		c.ttl = min(c.ttl, ttl)
		if len(c.names) >= c.max {
			return "", nil, fmt.Errorf("%w: more than %d links from %s", ErrChainTooLong, c.max, name)
		}
		if c.seen[canonical(next)] {
			return "", nil, fmt.Errorf("%w: %s leads back to %s", ErrCNAMELoop, cur, next)
		}
		c.seen[canonical(next)] = true
		c.names = append(c.names, next)
		cur = next
	}
	return cur, nil, nil
}

// link returns where a CNAME at name, or a DNAME above it, points, and
// the link's TTL.
func link(rrs []dns.RR, name string) (string, uint32, bool, error) {
	for _, rr := range rrs {
		if cn, ok := rr.(*dns.CNAME); ok && sameName(cn.Hdr.Name, name) {
			return dns.Fqdn(cn.Target), cn.Hdr.Ttl, true, nil
		}
	}
	for _, rr := range rrs {
		dn, ok := rr.(*dns.DNAME)
		if !ok || sameName(dn.Hdr.Name, name) || !dns.IsSubDomain(dn.Hdr.Name, name) {
			continue
		}
		// RFC 6672 §2.2: replace the DNAME owner suffix with its target.
		// A DNAME at the root replaces nothing but the root label.
		labels := dns.Split(name)
		prefix := name
		if keep := len(labels) - dns.CountLabel(dn.Hdr.Name); keep < len(labels) {
			prefix = name[:labels[keep]]
		}
		next := prefix + dns.Fqdn(dn.Target)
		if dn.Target == "." {
			next = prefix
		}
		if _, ok := dns.IsDomainName(next); !ok || len(next) > 254 {
			return "", 0, false, fmt.Errorf("gatewayresolver: DNAME %s → %s makes %s too long (RFC 6672 §2.2)", dn.Hdr.Name, dn.Target, name)
		}
		return next, dn.Hdr.Ttl, true, nil
	}
	return "", 0, false, nil
}

func sameName(a, b string) bool { return strings.EqualFold(dns.Fqdn(a), dns.Fqdn(b)) }

func canonical(s string) string { return dns.CanonicalName(s) }
