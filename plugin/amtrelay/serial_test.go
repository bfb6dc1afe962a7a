package amtrelay

import (
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/miekg/dns"
)

const serialCorefile = `amtrelay {
	relay a 192.0.2.1
	relay b 192.0.2.2 {
		precedence 10
	}
	source 198.51.100.0/24
	ns amt-dns.example.net.
}`

// soaSerial sets up a handler from corefile, with the server block keys
// a Corefile would give it, and returns its SOA serial.
func soaSerial(t *testing.T, corefile string) uint32 {
	t.Helper()
	c := caddy.NewTestController("dns", corefile)
	c.ServerBlockKeys = []string{"100.51.198.in-addr.arpa.:53"}
	a, err := parse(c)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m, _, _ := serve(t, a, new(dns.Msg).SetQuestion("100.51.198.in-addr.arpa.", dns.TypeSOA))
	if len(m.Answer) != 1 {
		t.Fatalf("SOA query: %v", m)
	}
	return m.Answer[0].(*dns.SOA).Serial
}

// TestSerialFromConfiguration: two instances set up from the same Corefile
// have the same SOA serial, however far apart they start; white space and
// comments do not change it; any change to the configuration does.
func TestSerialFromConfiguration(t *testing.T) {
	one := soaSerial(t, serialCorefile)
	if two := soaSerial(t, serialCorefile); two != one {
		t.Errorf("two instances of one Corefile: serials %d and %d", one, two)
	}
	reformatted := strings.ReplaceAll(serialCorefile, "\t", "    ") + "\n# a comment\n"
	if s := soaSerial(t, reformatted); s != one {
		t.Errorf("white space and a comment changed the serial: %d, was %d", s, one)
	}
	for _, changed := range []string{
		strings.Replace(serialCorefile, "precedence 10", "precedence 11", 1),
		strings.Replace(serialCorefile, "relay a 192.0.2.1", "relay a 192.0.2.1 {\n drain\n}", 1),
		strings.Replace(serialCorefile, "ns amt-dns.example.net.", "ns amt-dns.example.org.", 1),
	} {
		if s := soaSerial(t, changed); s == one {
			t.Errorf("a changed Corefile kept serial %d:\n%s", s, changed)
		}
	}
}

func TestSerialExplicit(t *testing.T) {
	corefile := strings.Replace(serialCorefile, "source", "serial 2026120101\n\tsource", 1)
	if s := soaSerial(t, corefile); s != 2026120101 {
		t.Errorf("serial 2026120101: SOA has %d", s)
	}
	for _, bad := range []string{"serial", "serial -1", "serial 4294967296", "serial x", "serial 1 2"} {
		_, err := parseCorefile(strings.Replace(serialCorefile, "source", bad+"\n\tsource", 1))
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
