package test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var rfc8777Relays = []string{"10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com."}

// TestStaticExample queries corefile-examples/static.corefile over UDP and
// TCP.
func TestStaticExample(t *testing.T) {
	udp, tcp := startCoreDNS(t, exampleCorefile(t, "static.corefile"))
	for _, c := range []struct{ network, addr string }{{"udp", udp}, {"tcp", tcp}} {
		t.Run(c.network, func(t *testing.T) {
			m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
			r := query(t, c.network, c.addr, m)
			if !r.Authoritative || r.Rcode != dns.RcodeSuccess {
				t.Errorf("AA=%v rcode=%s", r.Authoritative, dns.RcodeToString[r.Rcode])
			}
			if got := relayStrings(t, r); !slices.Equal(got, rfc8777Relays) {
				t.Errorf("answers %q, want %q", got, rfc8777Relays)
			}

			r = query(t, c.network, c.addr, new(dns.Msg).SetQuestion("200.113.0.203.in-addr.arpa.", dns.TypeAMTRELAY))
			if got := relayStrings(t, r); !slices.Equal(got, []string{"0 0 0 ."}) {
				t.Errorf("/25 answers %q, want no relay", got)
			}
			r = query(t, c.network, c.addr, new(dns.Msg).SetQuestion("100.113.0.203.in-addr.arpa.", dns.TypeAMTRELAY))
			if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
				t.Errorf("outside the /25: %s, authority %v", dns.RcodeToString[r.Rcode], r.Ns)
			}
			v6, _ := dns.ReverseAddr("2001:db8:100:1::9")
			r = query(t, c.network, c.addr, new(dns.Msg).SetQuestion(v6, dns.TypeAMTRELAY))
			if got := relayStrings(t, r); !slices.Equal(got, []string{"0 1 2 2001:db8:100::2268"}) {
				t.Errorf("IPv6 source answers %q", got)
			}
			r = query(t, c.network, c.addr, new(dns.Msg).SetQuestion("example.org.", dns.TypeA))
			if r.Rcode != dns.RcodeRefused {
				t.Errorf("out-of-zone query: %s, want REFUSED", dns.RcodeToString[r.Rcode])
			}
		})
	}
}

// TestTruncation: an answer larger than the client's UDP size sets TC, and
// TCP carries all of it.
func TestTruncation(t *testing.T) {
	var b strings.Builder
	b.WriteString(".:0 {\n bind 127.0.0.1\n amtrelay {\n")
	for i := range 80 {
		fmt.Fprintf(&b, "  relay r%d 10 0 1 10.0.%d.%d\n", i, i/250, i%250+1)
	}
	b.WriteString("  source 198.51.100.0/24\n }\n}\n")
	udp, tcp := startCoreDNS(t, b.String())
	m := new(dns.Msg).SetQuestion("7.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)

	r := query(t, "udp", udp, m)
	if !r.Truncated {
		t.Errorf("UDP reply of %d answers without TC", len(r.Answer))
	}
	r = query(t, "tcp", tcp, m)
	if r.Truncated || len(relayStrings(t, r)) != 80 {
		t.Errorf("TCP: TC=%v, %d answers, want 80", r.Truncated, len(r.Answer))
	}
	m.SetEdns0(4096, false)
	if r = query(t, "udp", udp, m); r.Truncated || len(relayStrings(t, r)) != 80 {
		t.Errorf("UDP with EDNS 4096: TC=%v, %d answers", r.Truncated, len(r.Answer))
	}
}

// rawExchange writes b to addr over UDP and unpacks the reply header and
// question only (a reply to a broken query may have no question).
func rawExchange(t *testing.T, addr string, b []byte) *dns.Msg {
	t.Helper()
	reply := rawReply(t, addr, b)
	r := new(dns.Msg)
	if err := r.Unpack(reply); err != nil {
		t.Fatalf("unpacking reply %x: %v", reply, err)
	}
	return r
}

// rawReply writes b to addr over UDP and returns the reply's octets.
func rawReply(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return buf[:n]
}

// TestUnknownEDNSFlagsCleared: a query with unknown EDNS flag bits (the Z
// field) gets a reply whose OPT record has them all clear (RFC 6891
// §6.1.4), DO echoed: for answers, negative answers, ECS answers, and the
// failure replies CoreDNS's server builds (FORMERR for a bad ECS option,
// REFUSED outside the zones).
func TestUnknownEDNSFlagsCleared(t *testing.T) {
	udp, _ := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, "closest.corefile")))
	for _, tc := range []struct {
		name, qname string
		ecs         *dns.EDNS0_SUBNET
		rcode       int
	}{
		{"answer", "12.100.51.198.in-addr.arpa.", nil, dns.RcodeSuccess},
		{"ECS answer", "12.100.51.198.in-addr.arpa.", &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("203.0.113.0").To4()}, dns.RcodeSuccess},
		{"NXDOMAIN", "1.2.100.51.198.in-addr.arpa.", nil, dns.RcodeNameError},
		// Packed as a /32, then SOURCE patched to 24: four address octets
		// where RFC 7871 §6 allows three.
		{"FORMERR", "12.100.51.198.in-addr.arpa.", &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 32, Address: net.ParseIP("203.0.113.1").To4()}, dns.RcodeFormatError},
		{"REFUSED", "example.org.", nil, dns.RcodeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg).SetQuestion(tc.qname, dns.TypeAMTRELAY)
			m.SetEdns0(1232, true)
			opt := m.IsEdns0()
			opt.Hdr.Ttl |= 0x7fff // every unknown flag
			if tc.ecs != nil {
				opt.Option = append(opt.Option, tc.ecs)
			}
			b, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if tc.rcode == dns.RcodeFormatError {
				b[len(b)-6] = 24 // FAMILY(2) SOURCE SCOPE ADDRESS(4): SOURCE
			}
			r := rawExchange(t, udp, b)
			if r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			ro := r.IsEdns0()
			if ro == nil {
				t.Fatal("no OPT record in the reply")
			}
			if z := ro.Hdr.Ttl & 0x7fff; z != 0 || !ro.Do() {
				t.Errorf("reply OPT flags %#04x, DO %v: want no unknown flag, DO set", z, ro.Do())
			}
		})
	}
}
