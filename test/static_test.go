package test

import (
	"encoding/binary"
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

// TestMalformedQueries sends hand-built packets: each gets the right
// rcode and the server keeps answering.
func TestMalformedQueries(t *testing.T) {
	udp, _ := startCoreDNS(t, exampleCorefile(t, "static.corefile"))
	good := func() *dns.Msg { return new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY) }
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	setCount := func(b []byte, off int, n uint16) []byte { binary.BigEndian.PutUint16(b[off:], n); return b }

	twoQ := good()
	twoQ.Question = append(twoQ.Question, twoQ.Question[0])
	ch := good()
	ch.Question[0].Qclass = dns.ClassCHAOS
	notify := good()
	notify.Opcode = dns.OpcodeNotify
	update := good()
	update.Opcode = dns.OpcodeUpdate
	badvers := good()
	badvers.SetEdns0(1232, false)
	badvers.IsEdns0().SetVersion(1)
	twoOPT := good()
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}})
	// An OPT whose option length runs past the RDATA.
	badOpt := pack(good())
	badOpt = setCount(badOpt, 10, 1)
	badOpt = append(badOpt, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 6, 0, 8, 0, 40, 1, 0)

	for _, tc := range []struct {
		name  string
		raw   []byte
		rcode int
	}{
		{"no question", setCount(pack(good()), 4, 0)[:12], dns.RcodeFormatError},
		{"two questions", pack(twoQ), dns.RcodeFormatError},
		{"class CH", pack(ch), dns.RcodeRefused},
		{"NOTIFY", pack(notify), dns.RcodeNotImplemented},
		{"UPDATE", pack(update), dns.RcodeNotImplemented},
		{"EDNS version 1", pack(badvers), dns.RcodeBadVers},
		{"two OPT records", pack(twoOPT), dns.RcodeFormatError},
		{"garbled OPT", badOpt, dns.RcodeFormatError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawExchange(t, udp, tc.raw)
			rcode := r.Rcode
			if opt := r.IsEdns0(); opt != nil {
				rcode = int(opt.ExtendedRcode()) | r.Rcode
			}
			if rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[rcode], dns.RcodeToString[tc.rcode])
			}
		})
	}
	if r := query(t, "udp", udp, good()); len(relayStrings(t, r)) != 3 {
		t.Errorf("server stopped answering: %v", r)
	}
}

// rawExchange writes b to addr over UDP and unpacks the reply header and
// question only (a reply to a broken query may have no question).
func rawExchange(t *testing.T, addr string, b []byte) *dns.Msg {
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
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil {
		t.Fatalf("unpacking reply %x: %v", buf[:n], err)
	}
	return r
}
