package amtrelay

import (
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// FuzzServeDNS feeds any message that unpacks to ServeDNS, with every
// kind of name and policy in play: it must answer or return an rcode,
// never panic.
func FuzzServeDNS(f *testing.F) {
	corefile := `amtrelay {
		relay cam 192.0.2.1 {
			location 52.2 0.1
			load 5
		}
		relay chi 2001:db8::2 {
			location 41.8 -87.6
		}
		relay n 3 1 3 relays.example.net.
		source 198.51.100.0/24 {
			policy closest
		}
		source 198.51.101.0/24 {
			policy least-load
		}
		source 198.51.102.0/24 {
			policy spill-over
		}
		source 198.51.103.0/24 {
			policy weighted
		}
		source 203.0.113.128/25 none
		source 2001:db8:100::/48
		geoip GEOIP
		explain
	}`
	a := startedHandler(f, corefile, geotest.Example)
	for _, name := range []string{"12.100.51.198.in-addr.arpa.", "amt.12.101.51.198.in-addr.arpa.", "_explain.1.102.51.198.in-addr.arpa.",
		"_explain.130.113.0.203.in-addr.arpa.", "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", "100.51.198.in-addr.arpa.", "x.y.103.51.198.in-addr.arpa."} {
		for _, qt := range []uint16{dns.TypeAMTRELAY, dns.TypeA, dns.TypeTXT, dns.TypeANY, dns.TypeSOA} {
			m := new(dns.Msg).SetQuestion(name, qt)
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: 24, Address: []byte{203, 0, 113, 0}}}
			b, _ := m.Pack()
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := new(dns.Msg)
		if m.Unpack(data) != nil {
			return
		}
		a.ServeDNS(t.Context(), dnstest.NewRecorder(&test.ResponseWriter{}), m)
	})
}
