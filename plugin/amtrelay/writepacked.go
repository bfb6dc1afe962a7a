package amtrelay

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"

	"github.com/coredns/coredns/plugin"

	"github.com/miekg/dns"
)

// Answers that list relays are the plugin's hot path. When nothing else in
// the server block reads or changes replies, they are packed here, into a
// recycled buffer, and written as bytes: no dns.Msg, no dns.RR per relay,
// no second packing by miekg/dns, and owner names compressed to a pointer
// to the question (RFC 1035 §4.1.4). Every other reply takes the dns.Msg
// path (reply.go), and so does this one whenever packing it here is not
// safe or it would not fit.

// bytesSafePlugins are the plugins that may sit before this one in a
// server block when answers are written as bytes: none of them reads or
// changes a reply message. Any other plugin before this one (dnssec signs
// in WriteMsg, cache stores the message, rewrite changes names back, log
// and dnstap report it, nsid adds an option, ...) needs a dns.Msg, and
// turns writing bytes off for the block.
var bytesSafePlugins = map[string]bool{
	"metadata": true, "geoip": true, "cancel": true, "timeouts": true, "multisocket": true,
	"reload": true, "bufsize": true, "bind": true, "debug": true, "ready": true,
	"health": true, "pprof": true, "prometheus": true, "errors": true, "local": true,
	"acl": true, "any": true, "chaos": true, "view": true, "root": true,
}

// writesBytesSafely reports whether this plugin may write answers as bytes
// in a server block with handlers hs (in chain order) on transport.
func writesBytesSafely(transport string, hs []plugin.Handler) bool {
	if transport != "dns" {
		return false // DoT, DoH, DoQ, gRPC writers: leave them the message
	}
	for _, h := range hs {
		if h.Name() == pluginName {
			return true // plugins after this one never see its answers
		}
		if !bytesSafePlugins[h.Name()] {
			return false
		}
	}
	return true
}

// packedBufs recycles the buffers answers are packed into.
var packedBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1232); return &b }}

// writePacked writes rq's answer as bytes when it is a positive AMTRELAY
// answer, or a seed-style A or AAAA answer with addresses, and the server
// block allows it, and reports whether it did. The bytes are what reply
// and miekg/dns would send, but for owner names in the question's case,
// behind compression pointers.
func (a *AMTRelay) writePacked(w dns.ResponseWriter, rq *dnsRequest) bool {
	req := rq.state.Req
	if !a.writesBytes || !rq.ranked || len(rq.ranking.chosen) == 0 || rq.ranking.noRelay ||
		req.Opcode != dns.OpcodeQuery || req.IsTsig() != nil || packedCount(rq) == 0 {
		return false
	}
	bp := packedBufs.Get().(*[]byte)
	defer packedBufs.Put(bp)
	b, ok := a.appendAnswer((*bp)[:0], rq)
	*bp = b[:0]
	max := dns.MaxMsgSize
	if rq.state.Proto() == "udp" {
		max = rq.state.Size()
	}
	if !ok || len(b) > max {
		return false // the dns.Msg path truncates
	}
	if _, err := w.Write(b); err != nil {
		log.Debugf("writing the answer for %s: %v", rq.qname, err)
	}
	return true
}

// appendAnswer packs rq's positive AMTRELAY answer (RFC 1035 §4.1) after
// b: the header as dns.Msg.SetReply makes it, with AA; the question as
// asked; a record per chosen relay, its owner a pointer to the question's
// name, its RDATA uncompressed (RFC 8777 §4.2.3); and, when the query had
// EDNS, an OPT record (RFC 6891 §6.1.2) with the ECS option (RFC 7871
// §6). ok is false when the question's name does not pack.
func (a *AMTRelay) appendAnswer(b []byte, rq *dnsRequest) (_ []byte, ok bool) {
	req := rq.state.Req
	q := req.Question[0]
	opt := req.IsEdns0()
	flags := uint16(1<<15 | 1<<10) // QR, AA; opcode QUERY, RCODE NOERROR
	if req.RecursionDesired {
		flags |= 1 << 8
	}
	if req.CheckingDisabled {
		flags |= 1 << 4
	}
	arcount := uint16(0)
	if opt != nil {
		arcount = 1
	}
	b = binary.BigEndian.AppendUint16(b, req.Id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(packedCount(rq)))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, arcount)
	start := len(b)
	b = slices.Grow(b, 256)[:start+256]
	end, err := dns.PackDomainName(q.Name, b, start, nil, false)
	if err != nil {
		return b[:start], false
	}
	b = b[:end]
	b = binary.BigEndian.AppendUint16(b, q.Qtype)
	b = binary.BigEndian.AppendUint16(b, q.Qclass)
	for _, c := range rq.ranking.chosen {
		if !packedHas(rq, c) {
			continue
		}
		b = append(b, 0xc0, byte(start)) // the question's name, at offset 12
		b = binary.BigEndian.AppendUint16(b, rq.qtype)
		b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
		b = binary.BigEndian.AppendUint32(b, a.ttl)
		if rq.qtype == dns.TypeAMTRELAY {
			b = binary.BigEndian.AppendUint16(b, uint16(c.relay.rdLength(c.tail())))
			b = c.relay.appendRDATA(b, c.tail(), c.precedence)
			continue
		}
		if addr := c.relay.record.Addr; addr.Is4() {
			a4 := addr.As4()
			b = binary.BigEndian.AppendUint16(b, 4)
			b = append(b, a4[:]...)
		} else {
			a16 := addr.As16()
			b = binary.BigEndian.AppendUint16(b, 16)
			b = append(b, a16[:]...)
		}
	}
	if opt == nil {
		return b, true
	}
	b = append(b, 0) // root
	b = binary.BigEndian.AppendUint16(b, dns.TypeOPT)
	b = binary.BigEndian.AppendUint16(b, uint16(rq.state.Size()))
	ttl := uint32(0) // extended RCODE 0, version 0
	if rq.state.Do() {
		ttl |= 1 << 15
	}
	b = binary.BigEndian.AppendUint32(b, ttl)
	if rq.ecs == nil {
		return binary.BigEndian.AppendUint16(b, 0), true
	}
	rdlen := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0) // RDLENGTH, OPTION-CODE, OPTION-LENGTH
	binary.BigEndian.PutUint16(b[rdlen+2:], dns.EDNS0SUBNET)
	b = binary.BigEndian.AppendUint16(b, rq.ecs.Family)
	b = append(b, rq.ecs.SourceNetmask, rq.ecsScope())
	b = appendECSAddr(b, rq.ecs)
	binary.BigEndian.PutUint16(b[rdlen:], uint16(len(b)-rdlen-2))
	binary.BigEndian.PutUint16(b[rdlen+4:], uint16(len(b)-rdlen-6))
	return b, true
}

// appendECSAddr appends the ADDRESS field of the reply's ECS option: the
// query's address cut to SOURCE PREFIX-LENGTH bits, in as many octets as
// those need (RFC 7871 §6), as miekg/dns packs it. ecsAddr has checked the
// option.
func appendECSAddr(b []byte, e *dns.EDNS0_SUBNET) []byte {
	var a netip.Addr
	switch e.Family {
	case ecsFamilyIPv4:
		a, _ = netip.AddrFromSlice(e.Address.To4())
	case ecsFamilyIPv6:
		a, _ = netip.AddrFromSlice(e.Address.To16())
	}
	p, err := a.Prefix(int(e.SourceNetmask))
	if err != nil {
		return b
	}
	n := (int(e.SourceNetmask) + 7) / 8
	if p.Addr().Is4() {
		a4 := p.Addr().As4()
		return append(b, a4[:n]...)
	}
	a16 := p.Addr().As16()
	return append(b, a16[:n]...)
}

// packedCount is how many records the answer packed as bytes holds: every
// chosen relay for AMTRELAY at a source's name; for A or AAAA at its amt.
// name, the relays of the first rank with an address of that family
// (seedRecords), or 0 when the answer is a CNAME or empty, which the
// dns.Msg path writes.
func packedCount(rq *dnsRequest) int {
	switch {
	case rq.node.kind == sourceName && rq.qtype == dns.TypeAMTRELAY:
		return len(rq.ranking.chosen)
	case rq.node.kind == seedName && (rq.qtype == dns.TypeA || rq.qtype == dns.TypeAAAA):
		n := 0
		for _, c := range rq.ranking.chosen {
			if packedHas(rq, c) {
				n++
			}
		}
		return n
	}
	return 0
}

// packedHas reports whether c has a record in the packed answer.
func packedHas(rq *dnsRequest, c candidate) bool {
	if rq.qtype == dns.TypeAMTRELAY {
		return true
	}
	best := rq.ranking.chosen[0].precedence
	for _, o := range rq.ranking.chosen[1:] {
		best = min(best, o.precedence)
	}
	a := c.relay.record.Addr
	return c.precedence == best && a.IsValid() && a.Is4() == (rq.qtype == dns.TypeA)
}
