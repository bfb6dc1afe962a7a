package test

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// clientSubnetRE reads dig's "; CLIENT-SUBNET: 203.0.113.0/26/26".
var clientSubnetRE = regexp.MustCompile(`; CLIENT-SUBNET: (\S+)/(\d+)/(\d+)`)

// TestClosestExampleDig: dig +subnet from three continents, over IPv4 and
// IPv6 client subnets, gets the nearest relay first, and the ECS option
// back with FAMILY, SOURCE and ADDRESS unchanged and the GeoIP network's
// length as SCOPE.
func TestClosestExampleDig(t *testing.T) {
	dig := testenv.LookPath(t, "dig", "bind9-dnsutils")
	udp, _ := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "closest.corefile")))
	host, port, _ := strings.Cut(udp, ":")
	cam, chi, syd := "192.0.2.1", "192.0.2.2", "192.0.2.3"
	for _, tc := range []struct {
		subnet string
		order  []string
		echo   string // address/source as dig prints it
		scope  string
	}{
		{"203.0.113.0/26", []string{cam, chi, syd}, "203.0.113.0/26", "26"},           // London
		{"203.0.113.64/28", []string{chi, cam, syd}, "203.0.113.64/28", "26"},         // New York
		{"203.0.113.128/26", []string{syd, chi, cam}, "203.0.113.128/26", "26"},       // Melbourne
		{"203.0.113.192/26", []string{syd, cam, chi}, "203.0.113.192/26", "26"},       // Tokyo
		{"2001:db8:1::/48", []string{cam, chi, syd}, "2001:db8:1::/48", "48"},         // London
		{"2001:db8:2:100::/56", []string{chi, cam, syd}, "2001:db8:2:100::/56", "48"}, // New York
		{"2001:db8:3::/48", []string{syd, chi, cam}, "2001:db8:3::/48", "48"},         // Melbourne
	} {
		t.Run(tc.subnet, func(t *testing.T) {
			out := run(t, dig, "@"+host, "-p", port, "+subnet="+tc.subnet, "12.100.51.198.in-addr.arpa", "AMTRELAY")
			var got []string
			for _, l := range sectionLines(out, "ANSWER") {
				f := strings.Fields(l)
				got = append(got, f[len(f)-1])
			}
			if !slices.Equal(got, tc.order) {
				t.Errorf("order %q, want %q\n%s", got, tc.order, out)
			}
			m := clientSubnetRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no CLIENT-SUBNET in the reply:\n%s", out)
			}
			if m[1]+"/"+m[2] != tc.echo || m[3] != tc.scope {
				t.Errorf("CLIENT-SUBNET %s/%s/%s, want %s/%s", m[1], m[2], m[3], tc.echo, tc.scope)
			}
		})
	}
	// Without +subnet dig sends no ECS, and gets none back; loopback is not
	// in the database, so the answer is the failover order.
	out := run(t, dig, "@"+host, "-p", port, "12.100.51.198.in-addr.arpa", "AMTRELAY")
	if strings.Contains(out, "CLIENT-SUBNET") {
		t.Errorf("ECS in a reply to a query without it:\n%s", out)
	}
}

// TestECSOverTheWire checks with this project's client that the ECS
// option leaves the server (CoreDNS drops EDNS options it does not know
// from replies unless a plugin builds the OPT itself).
func TestECSOverTheWire(t *testing.T) {
	udp, tcp := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "closest.corefile")))
	for _, addr := range map[string]string{"udp": udp, "tcp": tcp} {
		network := "udp"
		if addr == tcp {
			network = "tcp"
		}
		m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: 56, Address: []byte{0x20, 0x01, 0x0d, 0xb8, 0, 3, 0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}
		r := query(t, network, addr, m)
		var e *dns.EDNS0_SUBNET
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				e, _ = o.(*dns.EDNS0_SUBNET)
			}
		}
		if e == nil || e.Family != 2 || e.SourceNetmask != 56 || e.SourceScope != 48 || e.Address.String() != "2001:db8:3:ab00::" {
			t.Errorf("%s: ECS in reply %v", network, e)
		}
		if got := relayStrings(t, r); len(got) != 3 || !strings.HasSuffix(got[0], "192.0.2.3") {
			t.Errorf("%s: %q", network, got)
		}
	}
}

// TestLeastLoadExample: chi and syd tie at 30% and cam is at 80%; the tie
// is broken by distance from the client.
func TestLeastLoadExample(t *testing.T) {
	udp, _ := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "least-load.corefile")))
	for subnet, want := range map[string][]string{
		"203.0.113.64/26":  {"0 0 1 192.0.2.2", "1 0 1 192.0.2.3", "2 0 1 192.0.2.1"}, // New York: Chicago nearer
		"203.0.113.128/26": {"0 0 1 192.0.2.3", "1 0 1 192.0.2.2", "2 0 1 192.0.2.1"}, // Melbourne: Sydney nearer
	} {
		if got := relayStrings(t, queryECS(t, udp, subnet)); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", subnet, got, want)
		}
	}
}

// TestSpillOverExample: London is over the high mark, so London clients
// spread over Paris and Amsterdam (spread 2) by spare capacity, 50 and 80:
// never London, never New York. The draw is a hash of the source name,
// the client's GeoIP network and the TTL period, so the spread shows over
// the source names of the prefix.
func TestSpillOverExample(t *testing.T) {
	udp, _ := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "spill-over.corefile")))
	counts := map[string]int{}
	const names = 254
	for i := 1; i <= names; i++ {
		got := relayStrings(t, queryNameECS(t, udp, fmt.Sprintf("%d.100.51.198.in-addr.arpa.", i), "203.0.113.0/26"))
		counts[got[0]]++
	}
	par, ams := counts["0 0 1 192.0.2.2"], counts["0 0 1 192.0.2.3"]
	if par+ams != names {
		t.Fatalf("first relays %v: want only Paris and Amsterdam", counts)
	}
	// Expected shares 50/130 and 80/130; allow for chance.
	if share := float64(ams) / names; share < 0.5 || share > 0.73 {
		t.Errorf("Amsterdam first in %.2f of answers, want about 0.62: %v", share, counts)
	}
}

func queryECS(t testing.TB, addr, subnet string) *dns.Msg {
	t.Helper()
	return queryNameECS(t, addr, "12.100.51.198.in-addr.arpa.", subnet)
}

func queryNameECS(t testing.TB, addr, qname, subnet string) *dns.Msg {
	t.Helper()
	p := netip.MustParsePrefix(subnet)
	m := new(dns.Msg).SetQuestion(qname, dns.TypeAMTRELAY)
	m.SetEdns0(1232, false)
	fam := uint16(1)
	if p.Addr().Is6() {
		fam = 2
	}
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}}
	return query(t, "udp", addr, m)
}

// TestCacheRefusedWithClientPolicy: cache in front of a client-dependent
// policy would hand one client's answer to all: startup stops.
func TestCacheRefusedWithClientPolicy(t *testing.T) {
	corefile := prepareCorefile(t, strings.Replace(exampleCorefile(t, "closest.corefile"), "    log\n", "    log\n    cache 30\n", 1))
	_, err := ctestServer(corefile)
	if err == nil || !strings.Contains(err.Error(), "cache") || !strings.Contains(err.Error(), "policy closest") {
		t.Fatalf("startup with cache and closest: err = %v", err)
	}
	// A policy that does not depend on the client is fine behind cache.
	if _, err := ctestServer(strings.Replace(corefile, "policy closest", "policy failover", 1)); err != nil {
		t.Errorf("cache with failover: %v", err)
	}
}
