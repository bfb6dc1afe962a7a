package amtrelay

import (
	"net/netip"

	"github.com/miekg/dns"
)

// ECS families (RFC 7871 §6, IANA Address Family Numbers).
const (
	ecsFamilyIPv4 = 1
	ecsFamilyIPv6 = 2
)

// ecsOption returns the EDNS Client Subnet option of r, or nil.
func ecsOption(r *dns.Msg) *dns.EDNS0_SUBNET {
	opt := r.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			return e
		}
	}
	return nil
}

// ecsAddr validates an ECS option (RFC 7871 §6, §7.2.1) and returns the
// client address it carries. ok is false for a malformed option, which is
// answered FORMERR: an unknown family, a source prefix longer than the
// family allows, address bits set past the source prefix, or a non-zero
// SCOPE PREFIX-LENGTH in the query. With SOURCE
// PREFIX-LENGTH 0 the address is not to be used (§7.1.2): use is false.
//
// miekg/dns itself rejects unknown families and over-long prefixes while
// unpacking, and the server answers those FORMERR before any plugin runs;
// the checks here cover messages built in process too.
func ecsAddr(e *dns.EDNS0_SUBNET) (addr netip.Addr, use, ok bool) {
	if e.SourceScope != 0 {
		return netip.Addr{}, false, false // SCOPE "MUST be set to 0" in queries (RFC 7871 §6)
	}
	if e.SourceNetmask == 0 {
		return netip.Addr{}, false, e.Family == 0 || e.Family == ecsFamilyIPv4 || e.Family == ecsFamilyIPv6
	}
	a, valid := netip.AddrFromSlice(e.Address)
	if !valid {
		return netip.Addr{}, false, false
	}
	switch e.Family {
	case ecsFamilyIPv4:
		a = a.Unmap()
		if !a.Is4() {
			return netip.Addr{}, false, false
		}
	case ecsFamilyIPv6:
		if a.Is4() {
			a = netip.AddrFrom16(a.As16())
		}
	default:
		return netip.Addr{}, false, false
	}
	if int(e.SourceNetmask) > a.BitLen() {
		return netip.Addr{}, false, false
	}
	p := netip.PrefixFrom(a, int(e.SourceNetmask))
	if p.Masked().Addr() != a {
		return netip.Addr{}, false, false
	}
	return a, true, true
}

// ecsLengthOK reports whether the ECS option of opt had exactly the
// ceil(SOURCE/8) address octets RFC 7871 §6 requires, as it arrived on the
// wire. miekg/dns drops the address length while unpacking, so it is
// recovered from the OPT record's RDLENGTH as received: the octets not
// taken by the other options are the ECS option's. It reports true when
// that cannot be told (an OPT built in process has RDLENGTH 0).
func ecsLengthOK(opt *dns.OPT, e *dns.EDNS0_SUBNET) bool {
	wire := int(opt.Hdr.Rdlength)
	if wire == 0 {
		return true
	}
	others := 0
	for _, o := range opt.Option {
		if o == dns.EDNS0(e) {
			continue
		}
		others += 4 + optionLen(o)
	}
	got := wire - others - 4 - 4 // option header, then FAMILY, SOURCE, SCOPE
	want := (int(e.SourceNetmask) + 7) / 8
	return got == want
}

// optionLen is the packed length of an EDNS0 option's data.
func optionLen(o dns.EDNS0) int {
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}, Option: []dns.EDNS0{o}}
	return dns.Len(opt) - dns.Len(&dns.OPT{Hdr: opt.Hdr}) - 4
}

// ecsReply is the ECS option for the reply (RFC 7871 §7.2.1): FAMILY,
// SOURCE PREFIX-LENGTH and ADDRESS as in the query, SCOPE PREFIX-LENGTH
// as given.
func ecsReply(q *dns.EDNS0_SUBNET, scope uint8) *dns.EDNS0_SUBNET {
	return &dns.EDNS0_SUBNET{
		Code:          dns.EDNS0SUBNET,
		Family:        q.Family,
		SourceNetmask: q.SourceNetmask,
		SourceScope:   scope,
		Address:       q.Address,
	}
}
