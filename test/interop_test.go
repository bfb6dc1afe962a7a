package test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// allTypes has one source address per relay type and D-bit, so each query
// returns exactly one record.
var allTypes = []struct {
	source string // an address in 198.51.100.0/24
	relay  string // presentation form
}{
	{"198.51.100.1", "10 0 1 203.0.113.15"},
	{"198.51.100.2", "10 1 1 203.0.113.16"},
	{"198.51.100.3", "10 0 2 2001:db8::15"},
	{"198.51.100.4", "10 1 2 2001:db8::16"},
	{"198.51.100.5", "128 0 3 amtrelays.example.com."},
	{"198.51.100.6", "128 1 3 amtrelays2.example.com."},
	{"198.51.100.7", "0 0 0 ."},
}

const allTypesCorefile = `.:0 {
	bind 127.0.0.1
	amtrelay {
		relay a 10 0 1 203.0.113.15
		relay b 10 1 1 203.0.113.16
		relay c 10 0 2 2001:db8::15
		relay d 10 1 2 2001:db8::16
		relay e 128 0 3 amtrelays.example.com.
		relay f 128 1 3 amtrelays2.example.com.
		source 198.51.100.1/32 a
		source 198.51.100.2/32 b
		source 198.51.100.3/32 c
		source 198.51.100.4/32 d
		source 198.51.100.5/32 e
		source 198.51.100.6/32 f
		source 198.51.100.7/32 none
		ns amt-dns.example.net.
	}
}`

func reverse(t testing.TB, addr string) string {
	t.Helper()
	name, err := dns.ReverseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDigPresentation: BIND's dig decodes every relay type with either
// D-bit and prints the RFC 8777 §4.3.1 presentation form.
func TestDigPresentation(t *testing.T) {
	dig := testenv.LookPath(t, "dig", "bind9-dnsutils")
	udp, tcp := startCoreDNS(t, allTypesCorefile)
	for _, tc := range allTypes {
		for transport, addr := range map[string]string{"+notcp": udp, "+tcp": tcp} {
			host, port, _ := strings.Cut(addr, ":")
			out := run(t, dig, "@"+host, "-p", port, transport, reverse(t, tc.source), "AMTRELAY")
			if strings.Contains(out, "malformed") || strings.Contains(out, "TYPE260") || !strings.Contains(out, "status: NOERROR") {
				t.Errorf("dig %s for %s:\n%s", transport, tc.source, out)
			}
			want := reverse(t, tc.source) + "\t30\tIN\tAMTRELAY\t" + tc.relay
			ans := strings.TrimSpace(strings.Join(sectionLines(out, "ANSWER"), "\n"))
			if normalizeSpace(ans) != normalizeSpace(want) {
				t.Errorf("dig %s answer for %s:\n%s\nwant:\n%s", transport, tc.source, ans, want)
			}
		}
	}
}

// sectionLines returns the lines of dig's ";; NAME SECTION:".
func sectionLines(out, name string) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, ";; "+name+" SECTION:"):
			in = true
		case in && strings.TrimSpace(l) == "":
			return lines
		case in:
			lines = append(lines, l)
		}
	}
	return lines
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestDnspythonDecodes: dnspython (Debian python3-dnspython) decodes the
// same answers field by field.
func TestDnspythonDecodes(t *testing.T) {
	py := dnspython(t)
	udp, tcp := startCoreDNS(t, allTypesCorefile)
	host, udpPort, _ := strings.Cut(udp, ":")
	_, tcpPort, _ := strings.Cut(tcp, ":")
	script := `
import sys, dns.message, dns.query, dns.rdatatype
for name in sys.argv[4:]:
    for tcp in (False, True):
        q = dns.message.make_query(name, "AMTRELAY")
        port = int(sys.argv[3] if tcp else sys.argv[2])
        r = (dns.query.tcp if tcp else dns.query.udp)(q, sys.argv[1], port=port, timeout=3)
        for rrset in r.answer:
            for rd in rrset:
                print(rd.precedence, int(rd.discovery_optional), rd.relay_type, rd.relay, "tcp" if tcp else "udp")
`
	var names []string
	for _, tc := range allTypes {
		names = append(names, reverse(t, tc.source))
	}
	out := run(t, py, append([]string{"-c", script, host, udpPort, tcpPort}, names...)...)
	var want []string
	for _, tc := range allTypes {
		relay := tc.relay
		if strings.HasSuffix(relay, " .") {
			relay = strings.TrimSuffix(relay, ".") + "None" // dnspython has no relay for type 0
		}
		want = append(want, relay+" udp", relay+" tcp")
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, want) {
		t.Errorf("dnspython decoded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// dnspython finds a python3 with dnspython: Debian's own, which may not be
// the first python3 on PATH.
func dnspython(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import dns.rdtypes.ANY.AMTRELAY").Run() == nil {
			return py
		}
	}
	testenv.Unavailable(t, "no python3 with dnspython found (Debian package python3-dnspython)")
	return ""
}

// TestUnboundResolves: a real recursive resolver with strict QNAME
// minimisation resolves through the plugin's zones: it walks the empty
// non-terminals, gets AMTRELAY answers with either D-bit unmodified, and
// NXDOMAIN outside the prefixes.
func TestUnboundResolves(t *testing.T) {
	udp, _ := startCoreDNS(t, exampleCorefile(t, "static.corefile"))
	resolver := testenv.StartUnbound(t, map[string]string{
		"100.51.198.in-addr.arpa.":          udp,
		"113.0.203.in-addr.arpa.":           udp,
		"0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.": udp,
	})
	rd := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg).SetQuestion(name, qtype)
		m.RecursionDesired = true
		return query(t, "udp", resolver, m)
	}
	r := rd("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	if got := relayStrings(t, r); !slices.Equal(sorted(got), sorted(rfc8777Relays)) {
		t.Errorf("through Unbound: %s %q, want %q", dns.RcodeToString[r.Rcode], got, rfc8777Relays)
	}
	r = rd(reverse(t, "2001:db8:100:abcd::1"), dns.TypeAMTRELAY)
	if got := relayStrings(t, r); !slices.Equal(got, []string{"0 1 2 2001:db8:100::2268"}) {
		t.Errorf("IPv6 through Unbound: %s %q", dns.RcodeToString[r.Rcode], got)
	}
	r = rd("5.113.0.203.in-addr.arpa.", dns.TypeAMTRELAY)
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("outside the /25 through Unbound: %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	r = rd("amt.12.100.51.198.in-addr.arpa.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "203.0.113.15" {
		t.Errorf("seed-style A through Unbound: %v", r.Answer)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
