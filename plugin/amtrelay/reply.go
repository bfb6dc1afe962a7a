package amtrelay

import (
	"github.com/miekg/dns"
)

// reply builds the reply to rq: the answer, or the SOA for a negative
// answer (RFC 2308 §3), an OPT record of its own when the query had one
// (RFC 6891 §6.1.1; no unknown flags, §6.1.4), and the ECS option when the
// query had one (RFC 7871 §7.2.1). Compression is CoreDNS's choice:
// request.Scrub turns it on for replies that would not fit and off for
// the rest, whatever the plugin asks (asking would only make every
// recorder in the chain compute a compressed length). AMTRELAY RDATA is
// never compressed (RFC 8777 §4.2.3): it is packed as opaque RDATA.
func (a *AMTRelay) reply(rq *dnsRequest) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(rq.state.Req)
	m.Authoritative = true
	a.answer(m, rq)
	scope := rq.ecsScope()
	if len(m.Answer) == 0 {
		if !rq.node.exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{a.apexes[rq.zone].soa}
		scope = 0 // negative answers hold for everyone (RFC 7871 §7.4)
	}
	if rq.state.Req.IsEdns0() != nil {
		m.SetEdns0(uint16(rq.state.Size()), rq.state.Do())
	}
	if rq.ecs != nil {
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, ecsReply(rq.ecs, scope))
	}
	return m
}

// countECS counts how the query's ECS option was used, through the block
// the server block counted in last (querycounter.go).
func (a *AMTRelay) countECS(rq *dnsRequest) {
	use := ecsUseNone
	if rq.ecs != nil {
		use = rq.client.ecsUse()
	}
	ecsQueries.count(&a.ecsCounted, rq.labels, "", ecsUseIDs[use])
}

// The uses of ECS, as the use label of ecs_queries_total says them.
const (
	ecsUseNone = iota
	ecsUseUsed
	ecsUseZeroSource
	ecsUseMalformed
	ecsUseCount
)

var ecsUses = [ecsUseCount]string{ecsUseNone: "none", ecsUseUsed: "used", ecsUseZeroSource: "zero_source", ecsUseMalformed: "malformed"}

// ecsUseIDs are the uses' numbers in ecs_queries_total (valueID).
var ecsUseIDs = func() (ids [ecsUseCount]int32) {
	for use, v := range ecsUses {
		ids[use] = ecsQueries.valueID(v)
	}
	return ids
}()

// ecsScope is the SCOPE PREFIX-LENGTH of a positive answer (RFC 7871
// §7.2.1): the GeoIP network that decided it when the client's location
// did, else 0 (the answer holds for every client).
func (rq *dnsRequest) ecsScope() uint8 {
	cl := &rq.client
	if !rq.ranked || !rq.ranking.usesClient || !cl.viaECS || !cl.loc.network.IsValid() {
		return 0
	}
	if rq.ranking.scope.IsValid() {
		return uint8(rq.ranking.scope.Bits())
	}
	return uint8(cl.loc.network.Bits())
}
