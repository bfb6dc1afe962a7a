package amtrelay

import (
	"net"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// TestECSScopeWiderSource: a /16 source on the London /26 needs more bits:
// scope 26 > source 16 (RFC 7871 §7.2.1).
func TestECSScopeWiderSource(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	r := ask(t, a, "198.51.100.12", "127.0.0.1", "203.0.0.0/16")
	e := replyECS(r)
	if e == nil || e.SourceNetmask != 16 || e.SourceScope == 0 {
		t.Fatalf("ECS %v", e)
	}
}

func TestECSNoOptionNoEcho(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	// The resolver's own address places the client when there is no ECS.
	r := ask(t, a, "198.51.100.12", "203.0.113.70", "")
	if got := order(t, r); got[0] != "0 192.0.2.2" {
		t.Errorf("resolver in New York got %q", got)
	}
	if replyECS(r) != nil || r.IsEdns0() != nil {
		t.Errorf("reply has EDNS/ECS though the query had none: %v", r.Extra)
	}
	// With EDNS but no ECS, still no ECS.
	m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	m.SetEdns0(1232, false)
	if r := serveFrom(t, a, m, "203.0.113.70"); replyECS(r) != nil {
		t.Error("ECS added to a reply whose query had none")
	}
}

// TestECSSourceZero: SOURCE 0 means "do not use my client's address": the
// resolver's address decides, and the scope is 0.
func TestECSSourceZero(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	for _, fam := range []uint16{0, 1, 2} {
		m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		m.SetEdns0(1232, false)
		addr := net.IPv4zero.To4()
		if fam == 2 {
			addr = net.IPv6zero
		}
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam, Address: addr}}
		r := serveFrom(t, a, m, "203.0.113.130") // a resolver in Melbourne
		if got := order(t, r); len(got) == 0 || got[0] != "0 192.0.2.3" {
			t.Errorf("family %d: order %q, want Sydney first (the resolver's location)", fam, got)
		}
		if e := replyECS(r); e == nil || e.SourceScope != 0 || e.Family != fam || e.SourceNetmask != 0 {
			t.Errorf("family %d: ECS %v, want an echo with scope 0", fam, e)
		}
	}
}

func TestECSMalformed(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	for _, tc := range []struct {
		name string
		e    *dns.EDNS0_SUBNET
	}{
		{"bits past the prefix", &dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: 24, Address: net.ParseIP("203.0.113.7").To4()}},
		{"IPv6 bits past the prefix", &dns.EDNS0_SUBNET{Code: 8, Family: 2, SourceNetmask: 48, Address: net.ParseIP("2001:db8:1:1::")}},
		{"unknown family", &dns.EDNS0_SUBNET{Code: 8, Family: 3, SourceNetmask: 8, Address: net.ParseIP("203.0.113.0").To4()}},
		{"family 0 with a prefix", &dns.EDNS0_SUBNET{Code: 8, Family: 0, SourceNetmask: 8, Address: net.ParseIP("203.0.113.0").To4()}},
		{"IPv4 prefix over 32", &dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: 33, Address: net.ParseIP("203.0.113.0").To4()}},
		{"SCOPE set in a query", &dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: 24, SourceScope: 24, Address: net.ParseIP("203.0.113.0").To4()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = []dns.EDNS0{tc.e}
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			rcode, _ := a.ServeDNS(t.Context(), rec, m)
			if rcode != dns.RcodeFormatError {
				t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[rcode])
			}
		})
	}
}

// TestECSNegativeScopeZero: NXDOMAIN and NODATA carry the ECS echo with
// scope 0 (RFC 7871 §7.4).
func TestECSNegativeScopeZero(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	for _, q := range []struct {
		name  string
		qtype uint16
		rcode int
	}{{"12.100.51.198.in-addr.arpa.", dns.TypeTXT, dns.RcodeSuccess}, {"x.12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY, dns.RcodeNameError}} {
		m := new(dns.Msg).SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{ecsOpt(t, "203.0.113.0/26")}
		r := serveFrom(t, a, m, "127.0.0.1")
		if e := replyECS(r); r.Rcode != q.rcode || e == nil || e.SourceScope != 0 || e.SourceNetmask != 26 {
			t.Errorf("%s %s: rcode %s, ECS %v", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[r.Rcode], e)
		}
	}
}

// TestECSQueriesCounted: each query counts once in ecs_queries_total, by
// its use of ECS, also when uses alternate.
func TestECSQueriesCounted(t *testing.T) {
	a := newTestHandler(t, staticCorefile)
	k := blockKey{labels: queryLabels{"", ".", ""}}
	uses := []string{"none", "used", "zero_source", "malformed"}
	before := map[string]uint64{}
	for _, use := range uses {
		before[use] = countOf(ecsQueries, k, use)
	}
	withECS := func(bits uint8) *dns.Msg {
		m := new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: bits, Address: net.IPv4(192, 0, 2, 0).To4()}}
		return m
	}
	for range 3 {
		serve(t, a, new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))
		serve(t, a, withECS(24))
		serve(t, a, withECS(0))
		if _, rcode, _ := serve(t, a, withECS(33)); rcode != dns.RcodeFormatError {
			t.Fatalf("an IPv4 ECS option of 33 bits: rcode %s, want FORMERR", dns.RcodeToString[rcode])
		}
	}
	for _, use := range uses {
		if got := countOf(ecsQueries, k, use) - before[use]; got != 3 {
			t.Errorf("use %s counted %v times, want 3", use, got)
		}
	}
}
