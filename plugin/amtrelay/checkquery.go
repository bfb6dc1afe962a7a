package amtrelay

import (
	"github.com/miekg/dns"
)

// checkQuery vets a query for one of the plugin's zones and returns the
// rcode to fail it with, or RcodeSuccess:
//   - opcodes other than QUERY: NOTIMP (RFC 1035 §4.1.1);
//   - class 0 (reserved) and NONE (meaningful only in UPDATE, RFC 2136
//     §2.3): FORMERR; the assigned classes CH and HS: REFUSED (the zones
//     exist only in IN); unassigned classes: NOTIMP, as BIND 9 answers;
//   - QTYPE OPT, a pseudo-type no question may ask for: FORMERR (RFC 6891
//     §6.1.1, BIND 9);
//   - zone transfers: REFUSED, as the zones are synthesized;
//   - more than one OPT record, one not owned by the root, or one outside
//     the additional section: FORMERR (RFC 6891 §6.1.1).
//
// The server answers EDNS versions other than 0 with BADVERS before any
// plugin runs.
func checkQuery(r *dns.Msg) int {
	if r.Opcode != dns.OpcodeQuery {
		return dns.RcodeNotImplemented
	}
	switch r.Question[0].Qclass {
	case dns.ClassINET, dns.ClassANY:
	case 0, dns.ClassNONE:
		return dns.RcodeFormatError
	case dns.ClassCHAOS, dns.ClassHESIOD:
		return dns.RcodeRefused
	default:
		return dns.RcodeNotImplemented
	}
	switch r.Question[0].Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		return dns.RcodeRefused
	case dns.TypeOPT:
		return dns.RcodeFormatError
	}
	for _, rr := range append(r.Answer[:len(r.Answer):len(r.Answer)], r.Ns...) {
		if rr.Header().Rrtype == dns.TypeOPT {
			return dns.RcodeFormatError
		}
	}
	opts := 0
	for _, rr := range r.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			opts++
			if opts > 1 || rr.Header().Name != "." {
				return dns.RcodeFormatError
			}
		}
	}
	return dns.RcodeSuccess
}

// clearUnknownEDNSFlags sets the query's unknown EDNS flags (the Z bits)
// to zero. RFC 6891 §6.1.4 has senders set them to zero and receivers
// ignore them, so nothing reads them. CoreDNS's server builds the replies
// for returned failure rcodes (FORMERR, REFUSED, NOTIMP, SERVFAIL) from
// the query's own OPT record, and request.SizeAndDo clears only the low 8
// flag bits (it masks the TTL with 0xff00): the query's other unknown
// flags would be echoed. Clearing them in the query is the one place that
// works around it; the plugin's own replies carry an OPT record of their
// own.
func clearUnknownEDNSFlags(r *dns.Msg) {
	if opt := r.IsEdns0(); opt != nil {
		opt.Hdr.Ttl &^= 0x7fff
	}
}
