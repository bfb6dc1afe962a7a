package amtrelay

import (
	"github.com/miekg/dns"
)

// answer fills m's answer section for rq: SOA and NS at an apex, and at
// a source's names the records its ranking gives.
func (a *AMTRelay) answer(m *dns.Msg, rq *dnsRequest) {
	qtype, n := rq.qtype, rq.node
	any := qtype == dns.TypeANY
	if n.apex {
		ap := a.apexes[rq.zone]
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
			m.Answer = append(m.Answer, a.relayRecords(rq.ranking, rq.qname)...)
		}
	case seedName:
		if qtype == dns.TypeA || qtype == dns.TypeAAAA || any {
			m.Answer = append(m.Answer, a.seedRecords(rq.ranking, rq.qname, qtype)...)
		}
	case explainName:
		if qtype == dns.TypeTXT || any {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: rq.qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
				Txt: explainLines(rq),
			})
		}
	}
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
