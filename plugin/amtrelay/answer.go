package amtrelay

import (
	"github.com/miekg/dns"
)

// answer fills m's answer section for rq: SOA and NS at an apex, and at
// a source's names the records its ranking gives.
func (a *AMTRelay) answer(m *dns.Msg, rq *dnsRequest) {
	if rq.qtype == dns.TypeANY {
		m.Answer = a.answerANY(rq)
		return
	}
	m.Answer = a.records(rq, rq.qtype)
}

// records returns the RRset of type qtype at rq's name.
func (a *AMTRelay) records(rq *dnsRequest, qtype uint16) []dns.RR {
	n := rq.node
	if n.apex && qtype == dns.TypeSOA {
		return []dns.RR{a.apexes[rq.zone].soa}
	}
	if n.apex && qtype == dns.TypeNS {
		return a.apexes[rq.zone].ns
	}
	if n.kind == staticName {
		if qtype != dns.TypeAMTRELAY {
			return nil
		}
		rrs := make([]dns.RR, len(n.static))
		for i, s := range n.static {
			rrs[i] = s.relay.RR(dns.RR_Header{Name: rq.qname, Class: dns.ClassINET, Ttl: s.ttl}, s.relay.Relay().Precedence)
		}
		return rrs
	}
	if n.group == nil {
		return nil
	}
	switch {
	case n.kind == sourceName && qtype == dns.TypeAMTRELAY:
		return a.relayRecords(&rq.ranking, rq.qname)
	case n.kind == seedName && (qtype == dns.TypeA || qtype == dns.TypeAAAA):
		return a.seedRecords(&rq.ranking, rq.qname, qtype)
	case n.kind == explainName && qtype == dns.TypeTXT:
		return []dns.RR{&dns.TXT{
			Hdr: dns.RR_Header{Name: rq.qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
			Txt: explainLines(rq),
		}}
	}
	return nil
}

// answerANY answers QTYPE ANY as RFC 8482 §4.1 allows: with one RRset of
// the name, the one a client most likely wants (AMTRELAY at a source's
// reverse name, A, else AAAA, at its amt. name, TXT at its _explain. name,
// SOA at an apex), and with at most `any-limit` records.
func (a *AMTRelay) answerANY(rq *dnsRequest) []dns.RR {
	var rrs []dns.RR
	for _, t := range []uint16{dns.TypeAMTRELAY, dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeSOA} {
		rrs = a.records(rq, t)
		if len(rrs) > 0 && (len(rrs) != 1 || rrs[0].Header().Rrtype != dns.TypeCNAME || t == dns.TypeAAAA) {
			break // a seed name's CNAME only when it has neither A nor AAAA
		}
	}
	if a.anyLimit > 0 && len(rrs) > a.anyLimit {
		rrs = rrs[:a.anyLimit]
	}
	return rrs
}

// relayRecords returns the AMTRELAY answer of a ranking.
func (a *AMTRelay) relayRecords(rk *ranking, owner string) []dns.RR {
	if rk.noRelay {
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
func (a *AMTRelay) seedRecords(rk *ranking, owner string, qtype uint16) []dns.RR {
	if rk.noRelay || len(rk.chosen) == 0 {
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
