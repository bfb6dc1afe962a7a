package amtrelay

import (
	"github.com/miekg/dns"
)

// SOA timers of the synthesized zones. The negative-caching TTL (SOA
// MINIMUM, RFC 2308 §4) is the answer TTL.
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 1209600
)

// apex holds the records synthesized at one zone apex: SOA and NS, so that
// a parent zone can delegate here.
type apex struct {
	soa *dns.SOA
	ns  []dns.RR
}

// newApex builds the apex records of zone. nameservers are the NS targets;
// the first is the SOA MNAME.
func newApex(zone string, nameservers []string, ttl, serial uint32) apex {
	a := apex{soa: &dns.SOA{
		Hdr:     dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      nameservers[0],
		Mbox:    "hostmaster." + nameservers[0],
		Serial:  serial,
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  ttl,
	}}
	if nameservers[0] == "." {
		a.soa.Mbox = "."
	}
	for _, n := range nameservers {
		a.ns = append(a.ns, &dns.NS{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: ttl}, Ns: n})
	}
	return a
}
