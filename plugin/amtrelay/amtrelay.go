// Package amtrelay is a CoreDNS plugin that answers the AMTRELAY queries of
// RFC 8777 (DRIAD) for the multicast source prefixes a network serves. It
// is authoritative for the reverse zones that cover those prefixes and
// synthesizes, for the reverse name of each source address, the AMTRELAY
// records of the AMT relays (RFC 7450) that have multicast connectivity to
// that source.
package amtrelay

import (
	"context"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// AMTRelay is the plugin handler.
type AMTRelay struct {
	Next  plugin.Handler
	Zones []string
	Fall  fall.F

	apexes  map[string]apex
	sources *prefixTable
	ttl     uint32
}

// Name implements plugin.Handler.
func (a *AMTRelay) Name() string { return pluginName }

// ServeDNS implements plugin.Handler.
func (a *AMTRelay) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 {
		return dns.RcodeFormatError, nil
	}
	state := request.Request{W: w, Req: r}
	qname := state.Name()
	zone := plugin.Zones(a.Zones).Matches(qname)
	if zone == "" {
		return a.next(ctx, w, r)
	}
	if rcode := checkQuery(r); rcode != dns.RcodeSuccess {
		return rcode, nil
	}

	n := a.lookup(qname, zone)
	if !n.exists && a.Fall.Through(qname) {
		return a.next(ctx, w, r)
	}

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	a.answer(m, state.QType(), qname, zone, n)
	if len(m.Answer) == 0 {
		if !n.exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{a.negativeSOA(zone)}
	}
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// next passes a query on. With no next plugin the query is for a zone
// this server is not authoritative for, and gets REFUSED, as from any
// authoritative server, rather than SERVFAIL.
func (a *AMTRelay) next(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if a.Next == nil {
		return dns.RcodeRefused, nil
	}
	return plugin.NextOrFailure(a.Name(), a.Next, ctx, w, r)
}

// node is what the plugin knows of one name in its zones.
type node struct {
	exists bool
	apex   bool
	// group serves the address the name stands for, when it is a whole
	// address inside a configured prefix (or amt.<that name>).
	group *group
	// seed marks amt.<reverse name>, whose A and AAAA name the first-ranked
	// relays.
	seed bool
}

// lookup classifies qname, a lowercase name in zone.
func (a *AMTRelay) lookup(qname, zone string) node {
	n := node{apex: qname == zone}
	name := qname
	if strings.HasPrefix(name, seedLabel) {
		if p, ok := parseReverse(name[len(seedLabel):]); ok && p.Bits() == fullLength(p) && dns.IsSubDomain(zone, name[len(seedLabel):]) {
			n.group, _ = a.sources.lookup(p.Addr())
			n.seed = n.group != nil
			n.exists = n.seed || n.apex
			return n
		}
	}
	p, ok := parseReverse(name)
	switch {
	case !ok:
	case p.Bits() == fullLength(p):
		n.group, _ = a.sources.lookup(p.Addr())
		n.exists = n.group != nil
	default:
		n.exists = a.sources.exists(p)
	}
	n.exists = n.exists || n.apex
	return n
}

// answer fills m's answer section for qtype at qname.
func (a *AMTRelay) answer(m *dns.Msg, qtype uint16, qname, zone string, n node) {
	any := qtype == dns.TypeANY
	if n.apex {
		ap := a.apexes[zone]
		if qtype == dns.TypeSOA || any {
			m.Answer = append(m.Answer, ap.soa)
		}
		if qtype == dns.TypeNS || any {
			m.Answer = append(m.Answer, ap.ns...)
		}
	}
	if n.group == nil {
		return
	}
	switch {
	case n.seed && (qtype == dns.TypeA || qtype == dns.TypeAAAA || any):
		m.Answer = append(m.Answer, a.seedRecords(n.group, qname, qtype)...)
	case !n.seed && (qtype == dns.TypeAMTRELAY || any):
		m.Answer = append(m.Answer, a.relayRecords(n.group, qname)...)
	}
}

// relayRecords returns the AMTRELAY answer for a source in g.
func (a *AMTRelay) relayRecords(g *group, owner string) []dns.RR {
	if g.noRelay {
		return []dns.RR{noRelayRR(owner, a.ttl)}
	}
	chosen := g.policy.choose(g, nil)
	rrs := make([]dns.RR, len(chosen))
	for i, c := range chosen {
		rrs[i] = c.relay.rr(owner, a.ttl, c.precedence)
	}
	return rrs
}

// seedRecords returns the seed-style answer at amt.<reverse name>: the A
// or AAAA records of the relays the AMTRELAY answer ranks first (lowest
// precedence), or, when those are named by a type-3 relay and have no
// address of the asked family, a CNAME to that name.
func (a *AMTRelay) seedRecords(g *group, owner string, qtype uint16) []dns.RR {
	if g.noRelay {
		return nil
	}
	chosen := g.policy.choose(g, nil)
	if len(chosen) == 0 {
		return nil
	}
	best := chosen[0].precedence
	for _, c := range chosen[1:] {
		best = min(best, c.precedence)
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: a.ttl}
	}
	var rrs []dns.RR
	var cname string
	for _, c := range chosen {
		if c.precedence != best {
			continue
		}
		rec := c.relay.record
		switch {
		case rec.Addr.Is4() && (qtype == dns.TypeA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.A{Hdr: hdr(dns.TypeA), A: rec.Addr.AsSlice()})
		case rec.Addr.Is6() && (qtype == dns.TypeAAAA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: rec.Addr.AsSlice()})
		case rec.Name != "" && cname == "":
			cname = rec.Name
		}
	}
	if len(rrs) == 0 && cname != "" {
		return []dns.RR{&dns.CNAME{Hdr: hdr(dns.TypeCNAME), Target: cname}}
	}
	return rrs
}

// negativeSOA is the SOA for the authority section of a negative answer.
// Its TTL and MINIMUM are both the answer TTL, so resolvers cache the
// negative answer that long (RFC 2308 §5).
func (a *AMTRelay) negativeSOA(zone string) dns.RR {
	return a.apexes[zone].soa
}
