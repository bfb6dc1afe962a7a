package amtrelay

import (
	"context"
	"net"
	"net/netip"
	"sync"

	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// dnsRequest is one query on its way through ServeDNS: what was asked,
// what the name is, who it is for, and, once ranked, the ranking. Each
// step fills its own part; no step depends on a side effect of another.
type dnsRequest struct {
	state request.Request
	qname string
	qtype uint16
	zone  string
	// labels are the per-query metric labels: server, zone and view, as
	// CoreDNS's own request metrics have them.
	labels queryLabels
	node   node
	client client
	// ecs is the query's EDNS Client Subnet option, or nil.
	ecs *dns.EDNS0_SUBNET
	// query is what the policy ranked, and ranking its answer, for
	// answers that list relays (ranked).
	query   query
	ranking ranking
	ranked  bool
	// scratch is room for the ranking's relays (query.scratch).
	scratch scratch
}

// requests are the dnsRequests of queries being answered, reused. A
// request is large (about 500 octets): on ServeDNS's stack it made every
// query's goroutine outgrow its 4 kB stack while ranking, and the runtime
// copies a stack whole to grow it (about 1.5 µs a query, by a CPU profile
// under dnsperf, more than the ranking itself).
var requests = sync.Pool{New: func() any { return new(dnsRequest) }}

// newDNSRequest is a request for the query r that w answers; release
// gives it back. Nothing may keep it, or anything in it, past release.
func newDNSRequest(w dns.ResponseWriter, r *dns.Msg) *dnsRequest {
	rq := requests.Get().(*dnsRequest)
	rq.state = request.Request{W: w, Req: r}
	return rq
}

// release clears rq, so that the pool holds no query, and returns it.
func (rq *dnsRequest) release() {
	*rq = dnsRequest{}
	requests.Put(rq)
}

// newRequest reads the query of rq.state, in a request otherwise zero:
// the client (from ECS when the option says to use it, else the
// resolver's address) and the name's place in zone. A malformed ECS option
// fails it with FORMERR (RFC 7871 §7.1.1).
func (a *AMTRelay) newRequest(ctx context.Context, rq *dnsRequest, zone string) int {
	state := &rq.state
	rq.qname, rq.qtype, rq.zone = state.Name(), state.QType(), zone
	rq.labels = queryLabels{server: metrics.WithServer(ctx), zone: a.blockZone(rq.qname), view: metrics.WithView(ctx)}
	rq.client.addr = remoteAddr(state.W)
	if rq.ecs = ecsOption(state.Req); rq.ecs != nil {
		addr, use, ok := ecsAddr(rq.ecs)
		if !ok || (a.checkECSLength && !ecsLengthOK(state.Req.IsEdns0(), rq.ecs)) {
			ecsQueries.count(&a.ecsCounted, rq.labels, "", ecsUseIDs[ecsUseMalformed])
			return dns.RcodeFormatError
		}
		if use {
			rq.client.addr, rq.client.viaECS = addr, true
		}
	}
	rq.node = a.lookup(rq.qname, zone)
	return dns.RcodeSuccess
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

// queryLabels are the labels of the per-query metrics. zone is the server
// block's zone the query fell in, as coredns_dns_requests_total has it:
// never the plugin's per-source reverse zone, which would make one series
// per prefix.
type queryLabels struct {
	server, zone, view string
}

// blockZone is the longest server block zone qname is in, "." when none.
func (a *AMTRelay) blockZone(qname string) string {
	if z := matchZone(a.blockZones, qname); z != "" {
		return z
	}
	return "."
}
