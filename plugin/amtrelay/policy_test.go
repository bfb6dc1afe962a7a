package amtrelay

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// writeGeo writes a City database of places and returns its path.
func writeGeo(t testing.TB, places []geotest.Place) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, places); err != nil {
		t.Fatal(err)
	}
	return path
}

// startedHandler is newTestHandler plus startup, with a seeded random
// source; corefile may use GEOIP for the path of a database of places.
func startedHandler(t testing.TB, corefile string, places []geotest.Place) *AMTRelay {
	t.Helper()
	if places != nil {
		corefile = strings.ReplaceAll(corefile, "GEOIP", writeGeo(t, places))
	}
	a := newTestHandler(t, corefile)
	a.sel.rand = rand.New(rand.NewPCG(1, 2)).Float64
	if err := a.startup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.shutdown() })
	return a
}

// ask sends an AMTRELAY query for source from client (an address), with
// an ECS option for ecs ("" for none), and returns the reply.
func ask(t testing.TB, a *AMTRelay, source, from, ecs string) *dns.Msg {
	t.Helper()
	name, _ := dns.ReverseAddr(source)
	m := new(dns.Msg).SetQuestion(name, dns.TypeAMTRELAY)
	if ecs != "" {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOpt(t, ecs))
	}
	return serveFrom(t, a, m, from)
}

func ecsOpt(t testing.TB, prefix string) *dns.EDNS0_SUBNET {
	p := netip.MustParsePrefix(prefix)
	e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
	if p.Addr().Is6() {
		e.Family = 2
	}
	return e
}

func serveFrom(t testing.TB, a *AMTRelay, m *dns.Msg, from string) *dns.Msg {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: from})
	rcode, err := a.ServeDNS(t.Context(), rec, m)
	if err != nil {
		t.Fatalf("ServeDNS: %v", err)
	}
	if rec.Msg == nil {
		return &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: rcode}}
	}
	return rec.Msg
}

// order returns the relays of an answer as "precedence value" strings.
func order(t testing.TB, m *dns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range m.Answer {
		r, err := amtrelayrr.FromRR(rr)
		if err != nil {
			t.Fatal(err)
		}
		v := r.Addr.String()
		if r.Type == amtrelayrr.TypeName {
			v = r.Name
		}
		out = append(out, strconv.Itoa(int(r.Precedence))+" "+v)
	}
	return out
}

func replyECS(m *dns.Msg) *dns.EDNS0_SUBNET { return ecsOption(m) }

// closestCorefile is corefile-examples/closest.corefile's configuration.
const closestCorefile = `amtrelay {
	relay cam 192.0.2.1 {
		location 52.2053 0.1218
	}
	relay chi 192.0.2.2 {
		location 41.8781 -87.6298
	}
	relay syd 192.0.2.3 {
		location -33.8688 151.2093
	}
	source 198.51.100.0/24
	policy closest
	answer 3
	geoip GEOIP
	explain
}`

func TestClosestByContinent(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	for _, tc := range []struct {
		name  string
		ecs   string
		want  []string
		scope uint8
	}{
		{"London /26", "203.0.113.0/26", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 26},
		{"London /32", "203.0.113.9/32", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 26},
		{"New York", "203.0.113.64/26", []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}, 26},
		{"Melbourne", "203.0.113.128/27", []string{"0 192.0.2.3", "1 192.0.2.2", "2 192.0.2.1"}, 26},
		{"Tokyo", "203.0.113.200/29", []string{"0 192.0.2.3", "1 192.0.2.1", "2 192.0.2.2"}, 26},
		{"London IPv6", "2001:db8:1::/56", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 48},
		{"New York IPv6", "2001:db8:2:ab00::/56", []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}, 48},
		{"Melbourne IPv6", "2001:db8:3::/48", []string{"0 192.0.2.3", "1 192.0.2.2", "2 192.0.2.1"}, 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, a, "198.51.100.12", "127.0.0.1", tc.ecs)
			if got := order(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("order %q, want %q", got, tc.want)
			}
			e := replyECS(r)
			if e == nil {
				t.Fatal("no ECS option in the reply")
			}
			q := ecsOpt(t, tc.ecs)
			if e.Family != q.Family || e.SourceNetmask != q.SourceNetmask || !net.IP(e.Address).Equal(q.Address) {
				t.Errorf("ECS echo %v, want %v", e, q)
			}
			if e.SourceScope != tc.scope {
				t.Errorf("scope /%d, want /%d", e.SourceScope, tc.scope)
			}
		})
	}
}

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

// TestNoLocationFallsBack: no database entry, an entry without
// coordinates, or no database at all give the failover order.
func TestNoLocationFallsBack(t *testing.T) {
	failover := []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}
	a := startedHandler(t, closestCorefile, geotest.Example)
	// Loopback is not in the database: scoped to the empty network around it.
	r := ask(t, a, "198.51.100.12", "127.0.0.1", "198.51.100.0/24")
	if got := order(t, r); !slices.Equal(got, failover) {
		t.Errorf("unknown client: %q, want failover %q", got, failover)
	}
	if e := replyECS(r); e == nil || e.SourceScope == 0 {
		t.Errorf("unknown client answer must be scoped to its network, ECS %v", e)
	}
	// A record without coordinates.
	if got := order(t, ask(t, a, "198.51.100.12", "127.0.0.1", "2001:db8:4::/48")); !slices.Equal(got, failover) {
		t.Errorf("client without coordinates: %q", got)
	}
	// No database file at all: failover, and scope 0.
	b := startedHandler(t, strings.Replace(closestCorefile, "GEOIP", filepath.Join(t.TempDir(), "missing.mmdb"), 1), nil)
	r = ask(t, b, "198.51.100.12", "127.0.0.1", "203.0.113.0/26")
	if got := order(t, r); !slices.Equal(got, failover) {
		t.Errorf("no database: %q", got)
	}
	if e := replyECS(r); e == nil || e.SourceScope != 0 {
		t.Errorf("no database: ECS %v, want scope 0", e)
	}
}

// TestRelayLocationFromDatabase: a relay without `location` is placed by
// looking its address up.
func TestRelayLocationFromDatabase(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay ny 203.0.113.70
		relay mel 203.0.113.140
		relay nowhere 192.0.2.99
		source 198.51.100.0/24
		policy closest
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.128/26")); !slices.Equal(got, []string{"0 203.0.113.140", "1 203.0.113.70", "2 192.0.2.99"}) {
		t.Errorf("from Melbourne: %q", got)
	}
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")); !slices.Equal(got, []string{"0 203.0.113.70", "1 203.0.113.140", "2 192.0.2.99"}) {
		t.Errorf("from London: %q", got)
	}
}

func TestExplainTXT(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	m := new(dns.Msg).SetQuestion("_explain.12.100.51.198.in-addr.arpa.", dns.TypeTXT)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{ecsOpt(t, "203.0.113.64/26")}
	r := serveFrom(t, a, m, "127.0.0.1")
	if len(r.Answer) != 1 {
		t.Fatalf("answer %v", r)
	}
	txt := strings.Join(r.Answer[0].(*dns.TXT).Txt, "\n")
	for _, want := range []string{"client 203.0.113.64 (ECS)", "location 40.7128,-74.0060", "GeoIP network 203.0.113.64/26", "policy closest", "ECS scope /26",
		"rank 1 precedence 0 relay chi (192.0.2.2): distance 1144 km", "rank 3 precedence 2 relay syd"} {
		if !strings.Contains(txt, want) {
			t.Errorf("explanation lacks %q:\n%s", want, txt)
		}
	}
}
