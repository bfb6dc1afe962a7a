package amtrelay

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// newTestHandler parses corefile (the inside of a server block) into a
// handler whose next plugin answers SERVFAIL with a marker, so tests see
// when a query was passed on.
func newTestHandler(t testing.TB, corefile string) *AMTRelay {
	t.Helper()
	c := caddy.NewTestController("dns", corefile)
	a, err := parse(c)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	a.Next = test.NextHandler(dns.RcodeServerFailure, errPassedOn)
	return a
}

var errPassedOn = &passedOn{}

type passedOn struct{}

func (*passedOn) Error() string { return "passed to the next plugin" }

// serve runs m through a and returns the reply written, the rcode returned
// and the error.
func serve(t testing.TB, a *AMTRelay, m *dns.Msg) (*dns.Msg, int, error) {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rcode, err := a.ServeDNS(context.Background(), rec, m)
	return rec.Msg, rcode, err
}

// relays decodes the AMTRELAY records of rrs to presentation form.
func relays(t testing.TB, rrs []dns.RR) []string { return testenv.Relays(t, rrs) }

// order returns the relays of an answer as "precedence value" strings.
func order(t testing.TB, m *dns.Msg) []string { return testenv.Ranked(t, m.Answer) }

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func parseCorefile(corefile string) (*AMTRelay, error) {
	return parse(caddy.NewTestController("dns", corefile))
}

// writeGeo writes a City database of places and returns its path.
func writeGeo(t testing.TB, places []geotest.Place) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, places); err != nil {
		t.Fatal(err)
	}
	return path
}

// startedHandler is newTestHandler plus startup; corefile may use GEOIP
// for the path of a database of places.
func startedHandler(t testing.TB, corefile string, places []geotest.Place) *AMTRelay {
	t.Helper()
	if places != nil {
		corefile = strings.ReplaceAll(corefile, "GEOIP", writeGeo(t, places))
	}
	a := newTestHandler(t, corefile)
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
	return askName(t, a, name, dns.TypeAMTRELAY, from, ecs)
}

// askName sends a query for qname and qtype from client (an address),
// with an ECS option for ecs ("" for none), and returns the reply.
func askName(t testing.TB, a *AMTRelay, qname string, qtype uint16, from, ecs string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(qname, qtype)
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

func replyECS(m *dns.Msg) *dns.EDNS0_SUBNET { return ecsOption(m) }

// fiveSites has relays in London, Paris, Frankfurt, Amsterdam and New York
// for spill-over and least-load tests. Clients in 203.0.113.0/26 are in
// London.
const fiveSites = `amtrelay {
	relay lon 192.0.2.1 {
		location 51.5074 -0.1278
		capacity 100
		LOAD_LON
	}
	relay par 192.0.2.2 {
		location 48.8566 2.3522
		capacity 100
		LOAD_PAR
	}
	relay fra 192.0.2.3 {
		location 50.1109 8.6821
		capacity 300
		LOAD_FRA
	}
	relay ams 192.0.2.4 {
		location 52.3676 4.9041
		capacity 100
		LOAD_AMS
	}
	relay nyc 192.0.2.5 {
		location 40.7128 -74.0060
		capacity 100
		LOAD_NYC
	}
	source 198.51.100.0/24
	POLICY
	answer 3
	geoip GEOIP
}`

func sites(policy string, loads map[string]string) string {
	s := strings.Replace(fiveSites, "POLICY", policy, 1)
	for _, site := range []string{"LON", "PAR", "FRA", "AMS", "NYC"} {
		v := ""
		if l, ok := loads[strings.ToLower(site)]; ok {
			v = "load " + l
		}
		s = strings.Replace(s, "LOAD_"+site, v, 1)
	}
	return s
}

// waitFor waits, generously, until cond holds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, "condition", cond)
}
