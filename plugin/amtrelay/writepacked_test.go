package amtrelay

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// captureWriter keeps what a handler writes, as a message or as bytes,
// and answers RemoteAddr without allocating, as a server's writer does.
type captureWriter struct {
	test.ResponseWriter
	remote net.Addr
	msg    *dns.Msg
	wire   []byte
}

func newCaptureWriter(from string, tcp bool) *captureWriter {
	ip := net.ParseIP(from)
	w := &captureWriter{remote: &net.UDPAddr{IP: ip, Port: 40212}}
	if tcp {
		w.remote = &net.TCPAddr{IP: ip, Port: 40212}
	}
	return w
}

func (w *captureWriter) RemoteAddr() net.Addr { return w.remote }
func (w *captureWriter) WriteMsg(m *dns.Msg) error {
	w.msg = m
	return nil
}
func (w *captureWriter) Write(b []byte) (int, error) {
	w.wire = append(w.wire[:0], b...)
	return len(b), nil
}

// packedCorefile has every relay type and D-bit, at places around the
// world, so that answers mix them.
const packedCorefile = `amtrelay {
	relay cam 192.0.2.1 {
		location 52.2053 0.1218
	}
	relay chi 10 1 1 192.0.2.2 {
		location 41.8781 -87.6298
	}
	relay syd 10 0 2 2001:db8::15 {
		location -33.8688 151.2093
	}
	relay ny 10 1 3 Relays.Example.NET. {
		location 40.7128 -74.0060
	}
	source 198.51.100.0/24 2001:db8:ab::/48
	policy closest
	answer 4
	geoip GEOIP
}`

// TestWritePackedMatchesMsg: for queries of every shape (with and
// without EDNS and ECS, IPv4 and IPv6 client subnets of every length, DO,
// RD and CD bits, mixed-case names, UDP and TCP), the answer packed as
// bytes decodes to the message the dns.Msg path sends, but for the case
// of owner names (the question's, behind a compression pointer).
func TestWritePackedMatchesMsg(t *testing.T) {
	a := startedHandler(t, packedCorefile, geotest.Example)
	rng := rand.New(rand.NewPCG(4, 4))
	sources := []string{"198.51.100.12", "198.51.100.200", "2001:db8:ab::1"}
	clients := []string{"203.0.113.7", "203.0.113.70", "203.0.113.140", "203.0.113.200", "2001:db8:1::9", "2001:db8:3::1", "2001:db8:4::1", "127.0.0.1", "192.0.2.99"}
	seedPacked, seedSkipped := 0, 0
	for i := range 400 {
		src := sources[rng.IntN(len(sources))]
		qname, _ := dns.ReverseAddr(src)
		qtype := dns.TypeAMTRELAY
		if rng.IntN(3) == 0 { // the seed-style name
			qname, qtype = "amt."+qname, []uint16{dns.TypeA, dns.TypeAAAA}[rng.IntN(2)]
		}
		qname = mixCase(rng, qname)
		m := new(dns.Msg).SetQuestion(qname, qtype)
		m.Id = uint16(rng.Uint32())
		m.RecursionDesired = rng.IntN(2) == 0
		m.CheckingDisabled = rng.IntN(4) == 0
		client := clients[rng.IntN(len(clients))]
		if rng.IntN(5) > 0 {
			m.SetEdns0(uint16(512+rng.IntN(4000)), rng.IntN(3) == 0)
			if rng.IntN(4) > 0 {
				ecsClient := netip.MustParseAddr(clients[rng.IntN(len(clients))])
				bits := rng.IntN(ecsClient.BitLen() + 1)
				p := netip.PrefixFrom(ecsClient, bits).Masked()
				family := uint16(ecsFamilyIPv4)
				if ecsClient.Is6() {
					family = ecsFamilyIPv6
				}
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(bits), Address: p.Addr().AsSlice()})
			}
		}
		tcp := rng.IntN(4) == 0

		a.writesBytes = false
		byMsg := newCaptureWriter(client, tcp)
		if _, err := a.ServeDNS(t.Context(), byMsg, m.Copy()); err != nil || byMsg.msg == nil {
			t.Fatalf("query %d: dns.Msg path wrote nothing (%v)", i, err)
		}
		a.writesBytes = true
		byBytes := newCaptureWriter(client, tcp)
		if _, err := a.ServeDNS(t.Context(), byBytes, m.Copy()); err != nil {
			t.Fatal(err)
		}
		if byBytes.wire == nil {
			if qtype != dns.TypeAMTRELAY && (len(byMsg.msg.Answer) == 0 || byMsg.msg.Answer[0].Header().Rrtype == dns.TypeCNAME) {
				seedSkipped++
				continue // a CNAME or empty seed answer is the dns.Msg path's
			}
			t.Fatalf("query %d (%s %s from %s): not written as bytes", i, qname, dns.TypeToString[qtype], client)
		}
		if qtype != dns.TypeAMTRELAY {
			seedPacked++
		}
		want, err := byMsg.msg.Pack()
		if err != nil {
			t.Fatal(err)
		}
		wantMsg, err1 := amtrelayrr.UnpackMsg(want)
		got, err2 := amtrelayrr.UnpackMsg(byBytes.wire)
		if err1 != nil || err2 != nil {
			t.Fatalf("query %d: unpack: %v, %v", i, err1, err2)
		}
		if g, w := strings.ToLower(got.String()), strings.ToLower(wantMsg.String()); g != w {
			t.Fatalf("query %d: bytes decode to\n%s\nwant\n%s", i, g, w)
		}
		if len(byBytes.wire) >= len(want) && len(got.Answer) > 1 {
			t.Errorf("query %d: %d octets as bytes, not fewer than the uncompressed %d", i, len(byBytes.wire), len(want))
		}
	}
	if seedPacked < 20 {
		t.Errorf("only %d seed-style A or AAAA answers went out as bytes (%d took the dns.Msg path)", seedPacked, seedSkipped)
	}
}

// mixCase randomises the case of name's letters, as resolvers using
// 0x20 do.
func mixCase(rng *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && rng.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestWritePackedOnlyWhenSafe: answers go out as bytes only for positive
// AMTRELAY answers that fit; everything else, and every server block with
// a plugin that needs the message, gets the dns.Msg.
func TestWritePackedOnlyWhenSafe(t *testing.T) {
	a := startedHandler(t, packedCorefile, geotest.Example)
	a.writesBytes = true
	for _, tc := range []struct {
		name  string
		qname string
		qtype uint16
		size  uint16 // EDNS size, 0 for none
		bytes bool
	}{
		{"AMTRELAY", "12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY, 1232, true},
		{"seed A", "amt.12.100.51.198.in-addr.arpa.", dns.TypeA, 1232, true},
		{"seed TXT", "amt.12.100.51.198.in-addr.arpa.", dns.TypeTXT, 1232, false},
		{"SOA at the apex", "100.51.198.in-addr.arpa.", dns.TypeSOA, 0, false},
		{"NODATA", "12.100.51.198.in-addr.arpa.", dns.TypeTXT, 0, false},
		{"NXDOMAIN", "x.12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg).SetQuestion(tc.qname, tc.qtype)
			if tc.size > 0 {
				m.SetEdns0(tc.size, false)
			}
			w := newCaptureWriter("203.0.113.7", false)
			a.ServeDNS(t.Context(), w, m)
			if (w.wire != nil) != tc.bytes || (w.msg != nil) == tc.bytes {
				t.Errorf("written as bytes: %v, as a message: %v; want bytes %v", w.wire != nil, w.msg != nil, tc.bytes)
			}
		})
	}
	// An answer longer than the client's UDP size takes the dns.Msg path,
	// which truncates it; within the size it goes out as bytes.
	var many strings.Builder
	many.WriteString("amtrelay {\n")
	for i := range 40 {
		fmt.Fprintf(&many, "relay r%d 10 0 3 relay-%d.a-rather-long-relay-name.example.net. {\nlocation %d 0\n}\n", i, i, i)
	}
	many.WriteString("source 198.51.100.0/24\npolicy closest\nanswer 40\ngeoip GEOIP\n}")
	long := startedHandler(t, many.String(), geotest.Example)
	long.writesBytes = true
	for _, size := range []uint16{512, 4096} {
		m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		m.SetEdns0(size, false)
		w := newCaptureWriter("203.0.113.7", false)
		long.ServeDNS(t.Context(), w, m)
		if (w.wire != nil) != (size == 4096) {
			t.Errorf("EDNS size %d: written as bytes %v (%d octets)", size, w.wire != nil, len(w.wire))
		}
	}

	for _, tc := range []struct {
		transport string
		plugins   []string
		want      bool
	}{
		{"dns", []string{"prometheus", "errors", "ready", pluginName, "file", "forward"}, true},
		{"dns", []string{pluginName, "cache"}, true}, // after this plugin: never sees its answers
		{"dns", []string{"errors", "log", pluginName}, false},
		{"dns", []string{"dnssec", pluginName}, false},
		{"dns", []string{"cache", pluginName}, false},
		{"dns", []string{"rewrite", pluginName}, false},
		{"tls", []string{pluginName}, false},
		{"https", []string{pluginName}, false},
	} {
		var hs []plugin.Handler
		for _, p := range tc.plugins {
			hs = append(hs, namedHandler(p))
		}
		if got := writesBytesSafely(tc.transport, hs); got != tc.want {
			t.Errorf("%s %v: writes bytes %v, want %v", tc.transport, tc.plugins, got, tc.want)
		}
	}
}

// namedHandler is a plugin.Handler that only has a name.
type namedHandler string

func (h namedHandler) Name() string { return string(h) }
func (h namedHandler) ServeDNS(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) {
	return 0, fmt.Errorf("not served")
}

// BenchmarkEncode is the cost of one positive answer of three relays with
// ECS, packed here as bytes against built as a dns.Msg and packed by
// miekg/dns with compression (what the server does with the Msg).
func BenchmarkEncode(b *testing.B) {
	a := startedHandler(b, packedCorefile, geotest.Example)
	m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("203.0.113.0").To4()}}
	w := newCaptureWriter("127.0.0.1", false)
	rq := dnsRequest{state: requestOf(w, m)}
	rcode := a.newRequest(b.Context(), &rq, "100.51.198.in-addr.arpa.")
	if rcode != dns.RcodeSuccess {
		b.Fatal(rcode)
	}
	rq.client.locate(a.sel.geo)
	rq.ranking, rq.ranked = a.rank(&query{group: rq.node.group, loc: rq.client.loc, sel: a.sel}), true
	b.Run("write=bytes", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1232)
		for b.Loop() {
			buf, _ = a.appendAnswer(buf[:0], &rq)
		}
	})
	b.Run("write=msg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := a.reply(&rq)
			r.Compress = true
			if _, err := r.Pack(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkECS is the cost of reading and checking a query's ECS option
// and placing the client by it.
func BenchmarkECS(b *testing.B) {
	a := startedHandler(b, packedCorefile, geotest.Example)
	m := new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("203.0.113.0").To4()}}
	w := newCaptureWriter("127.0.0.1", false)
	b.ReportAllocs()
	for b.Loop() {
		rq := dnsRequest{state: requestOf(w, m)}
		rcode := a.newRequest(b.Context(), &rq, "100.51.198.in-addr.arpa.")
		if rcode != dns.RcodeSuccess || !rq.client.viaECS {
			b.Fatal("ECS not used")
		}
		rq.client.locate(a.sel.geo)
		if !rq.client.loc.known {
			b.Fatal("client not placed")
		}
	}
}

// requestOf is the request.Request ServeDNS makes of w and m.
func requestOf(w dns.ResponseWriter, m *dns.Msg) request.Request {
	return request.Request{W: w, Req: m}
}
