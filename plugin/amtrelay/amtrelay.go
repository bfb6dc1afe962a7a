// Package amtrelay is a CoreDNS plugin that answers the AMTRELAY queries of
// RFC 8777 (DRIAD) for the multicast source prefixes a network serves. It
// is authoritative for the reverse zones that cover those prefixes and
// synthesizes, for the reverse name of each source address, the AMTRELAY
// records of the AMT relays (RFC 7450) that have multicast connectivity to
// that source, chosen and ordered per query by a policy.
package amtrelay

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/fall"
	clog "github.com/coredns/coredns/plugin/pkg/log"
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
	groups  []*group
	relays  []*relay
	ttl     uint32
	sel     *selector
	// explain answers TXT queries at _explain.<reverse name>.
	explain bool
	// checkECSLength checks ECS address lengths against the OPT RDLENGTH
	// as received; off when a plugin before this one may rewrite ECS.
	checkECSLength bool
	// allDown says what to answer when no relay of a source is eligible.
	allDown allDownAction
	// health probes the relays and load reads their loads, when the
	// Corefile asks for them.
	health *healthChecker
	load   *loadPoller
	pos    position
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
	zone := matchZone(a.Zones, qname)
	if zone == "" {
		return a.next(ctx, w, r)
	}
	if rcode := checkQuery(r); rcode != dns.RcodeSuccess {
		return rcode, nil
	}
	server := metrics.WithServer(ctx)

	cl := &client{addr: remoteAddr(w)}
	ecs := ecsOption(r)
	if ecs != nil {
		addr, use, ok := ecsAddr(ecs)
		if !ok || (a.checkECSLength && !ecsLengthOK(r.IsEdns0(), ecs)) {
			ecsQueries.WithLabelValues(server, "malformed").Inc()
			return dns.RcodeFormatError, nil
		}
		if use {
			cl.addr, cl.viaECS = addr, true
		}
	}

	n := a.lookup(qname, zone)
	if !n.exists && a.Fall.Through(qname) {
		return a.next(ctx, w, r)
	}

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	var rk *ranking
	if n.group != nil && n.group.noRelay && n.needsRanking(state.QType()) {
		answers.WithLabelValues(server, n.group.policy.String(), "none").Inc()
	}
	if n.group != nil && !n.group.noRelay && n.needsRanking(state.QType()) {
		q := &query{group: n.group, client: cl, now: time.Now(), sel: a.sel}
		rk = a.rank(q, server)
		if rk == nil {
			return dns.RcodeServerFailure, nil // all relays down, `all-down servfail`
		}
	}
	scope := ecsScope(rk, cl)
	a.answer(m, state.QType(), qname, zone, n, rk, cl, scope)
	if len(m.Answer) == 0 {
		if !n.exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{a.apexes[zone].soa}
		scope = 0 // negative answers hold for everyone (RFC 7871 §7.4)
	}

	if ecs != nil {
		m.SetEdns0(uint16(state.Size()), state.Do())
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, ecsReply(ecs, scope))
		ecsQueries.WithLabelValues(server, ecsUse(cl)).Inc()
	} else {
		ecsQueries.WithLabelValues(server, "none").Inc()
	}
	if rk != nil && clog.D.Value() {
		log.Debugf("%s %s: %s", qname, dns.TypeToString[state.QType()], strings.Join(explainLines(n.group, cl, rk, scope), "; "))
	}
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// ecsScope is the SCOPE PREFIX-LENGTH of a positive answer (RFC 7871
// §7.2.1): the GeoIP network that decided it when the client's location
// did, else 0 (the answer holds for every client).
func ecsScope(rk *ranking, cl *client) uint8 {
	if rk == nil || !rk.usesClient || !cl.viaECS || !cl.loc.network.IsValid() {
		return 0
	}
	return uint8(cl.loc.network.Bits())
}

func ecsUse(c *client) string {
	if c.viaECS {
		return "used"
	}
	return "zero_source"
}

// remoteAddr is the address the query came from.
func remoteAddr(w dns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	ap, _ := netip.ParseAddrPort(w.RemoteAddr().String())
	return ap.Addr().Unmap()
}

// rank runs the group's policy, applies the all-down behaviour and
// counts the outcome. It returns nil for SERVFAIL.
func (a *AMTRelay) rank(q *query, server string) *ranking {
	g := q.group
	rk := g.policy.rank(q)
	if len(rk.chosen) == 0 && len(g.relays) > 0 {
		fallbacks.WithLabelValues(server, g.policy.String(), "all_down").Inc()
		switch a.allDown {
		case allDownServfail:
			return nil
		case allDownNoRelay:
			answers.WithLabelValues(server, g.policy.String(), "none").Inc()
			return &ranking{fallback: "all_down", noRelay: true}
		default:
			q.ignoreHealth = true
			rk = g.policy.rank(q)
			rk.fallback = "all_down"
		}
	}
	if q.client.lookedUp && !q.client.loc.known {
		locationUnknown.WithLabelValues(server, q.client.unknownReason).Inc()
	}
	if rk.fallback != "" && rk.fallback != "all_down" {
		fallbacks.WithLabelValues(server, g.policy.String(), rk.fallback).Inc()
	}
	if len(rk.chosen) > 0 {
		rk.chosen[0].relay.countAnswer(server, g.policy.String())
	} else {
		answers.WithLabelValues(server, g.policy.String(), "none").Inc()
	}
	return &rk
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
	// address inside a configured prefix (or a label below that name).
	group *group
	// kind says which name of that address it is.
	kind nameKind
}

// nameKind tells the names the plugin answers for a source address apart.
type nameKind int

const (
	sourceName  nameKind = iota // <reverse name>: AMTRELAY
	seedName                    // amt.<reverse name>: A, AAAA (seed procedure)
	explainName                 // _explain.<reverse name>: TXT, with `explain`
)

// needsRanking reports whether an answer of qtype at n lists relays, so
// that the policy must run.
func (n node) needsRanking(qtype uint16) bool {
	if qtype == dns.TypeANY {
		return true
	}
	switch n.kind {
	case seedName:
		return qtype == dns.TypeA || qtype == dns.TypeAAAA
	case explainName:
		return qtype == dns.TypeTXT
	}
	return qtype == dns.TypeAMTRELAY
}

// lookup classifies qname, a lowercase name in zone.
func (a *AMTRelay) lookup(qname, zone string) node {
	n := node{apex: qname == zone}
	for _, sub := range []struct {
		label string
		kind  nameKind
	}{{seedLabel, seedName}, {explainLabel, explainName}} {
		if sub.kind == explainName && !a.explain {
			continue
		}
		rest, ok := strings.CutPrefix(qname, sub.label)
		if !ok {
			continue
		}
		if p, ok := parseReverse(rest); ok && p.Bits() == fullLength(p) && inZone(rest, zone) {
			n.group, _ = a.sources.lookup(p.Addr())
			n.kind = sub.kind
			n.exists = n.group != nil || n.apex
			return n
		}
	}
	p, ok := parseReverse(qname)
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
func (a *AMTRelay) answer(m *dns.Msg, qtype uint16, qname, zone string, n node, rk *ranking, cl *client, scope uint8) {
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
	switch n.kind {
	case sourceName:
		if qtype == dns.TypeAMTRELAY || any {
			m.Answer = append(m.Answer, a.relayRecords(n.group, rk, qname)...)
		}
	case seedName:
		if qtype == dns.TypeA || qtype == dns.TypeAAAA || any {
			m.Answer = append(m.Answer, a.seedRecords(n.group, rk, qname, qtype)...)
		}
	case explainName:
		if qtype == dns.TypeTXT || any {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
				Txt: explainLines(n.group, cl, rk, scope),
			})
		}
	}
}

// relayRecords returns the AMTRELAY answer for a source in g.
func (a *AMTRelay) relayRecords(g *group, rk *ranking, owner string) []dns.RR {
	if g.noRelay || rk.noRelay {
		return []dns.RR{noRelayRR(owner, a.ttl)}
	}
	rrs := make([]dns.RR, len(rk.chosen))
	for i, c := range rk.chosen {
		rrs[i] = c.relay.rr(owner, a.ttl, c.precedence)
	}
	return rrs
}

// seedRecords returns the seed-style answer at amt.<reverse name>: the A
// or AAAA records of the relays the AMTRELAY answer ranks first (lowest
// precedence), or, when those are named by a type-3 relay and have no
// address of the asked family, a CNAME to that name.
func (a *AMTRelay) seedRecords(g *group, rk *ranking, owner string, qtype uint16) []dns.RR {
	if g.noRelay || rk.noRelay || len(rk.chosen) == 0 {
		return nil
	}
	best := rk.chosen[0].precedence
	for _, c := range rk.chosen[1:] {
		best = min(best, c.precedence)
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: a.ttl}
	}
	var rrs []dns.RR
	var cname string
	for _, c := range rk.chosen {
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
