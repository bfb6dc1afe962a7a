package amtrelay

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"
	clog "github.com/coredns/coredns/plugin/pkg/log"

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
	// zonefile serves AMTRELAY records from a zone file, at their owners.
	zonefile *zonefile
	// anyLimit caps the records of an answer to ANY (RFC 8482 §4.1).
	anyLimit int
	// zones finds the zone of a name among Zones.
	zones zoneSet
	// blockZones are the server block's zones, for the zone label.
	blockZones []string
	// writesBytes is set when positive answers may be packed here and
	// written as bytes (writepacked.go).
	writesBytes bool
	// strictReady makes Ready say whether there is anything to offer.
	strictReady bool
	// health probes the relays, when the Corefile asks for it; workers
	// are everything that runs in the background: probes, load pollers,
	// the GeoIP watcher.
	health  *healthChecker
	workers workers
	pos     position
	// ecsCounted is the ecs_queries_total block counted in last
	// (querycounter.go).
	ecsCounted atomic.Pointer[countBlock]
}

// Name implements plugin.Handler.
func (a *AMTRelay) Name() string { return pluginName }

// ServeDNS implements plugin.Handler. It reads as the steps of one
// answer: classify the name, locate the client, rank, build the reply,
// write it.
func (a *AMTRelay) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 {
		return dns.RcodeFormatError, nil
	}
	clearUnknownEDNSFlags(r)
	rq := newDNSRequest(w, r)
	defer rq.release()
	zone := a.zones.match(rq.state.Name())
	if zone == "" {
		return a.next(ctx, w, r)
	}
	if rcode := checkQuery(r); rcode != dns.RcodeSuccess {
		return rcode, nil
	}
	if rcode := a.newRequest(ctx, rq, zone); rcode != dns.RcodeSuccess {
		return rcode, nil
	}
	if !rq.node.exists && a.Fall.Through(rq.qname) {
		return a.next(ctx, w, r)
	}
	if rq.node.needsRanking(rq.qtype) && !a.rankRequest(rq) {
		return dns.RcodeServerFailure, nil
	}
	a.countECS(rq)
	if rq.ranked && clog.D.Value() {
		log.Debugf("%s %s: %s", rq.qname, dns.TypeToString[rq.qtype], strings.Join(explainLines(rq), "; "))
	}
	if !a.writePacked(w, rq) {
		w.WriteMsg(a.reply(rq))
	}
	return dns.RcodeSuccess, nil
}

// rankRequest ranks the relays of rq's source for its client, and counts
// the ranking. It returns false when the answer must be SERVFAIL. It is a
// call of its own so that what ranking keeps on the stack is gone before
// the answer is written, the deepest part of a query's stack.
//
//go:noinline
func (a *AMTRelay) rankRequest(rq *dnsRequest) bool {
	g := rq.node.group
	now := a.sel.now()
	if g.locates {
		rq.client.locate(a.sel.geo)
		a.sel.located.record(now, rq.client.loc.known, rq.labels.server)
	}
	// The query lives in the request: given to a policy (an interface), a
	// query of its own would escape to the heap, once a query.
	rq.query = query{group: g, loc: rq.client.loc, now: now, sel: a.sel, key: drawKeyOf(rq), scratch: &rq.scratch}
	rk := a.rank(&rq.query)
	rk.count(rq.labels, g, &rq.client)
	if rk.servfail {
		return false
	}
	rq.ranking, rq.ranked = rk, true
	return true
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
