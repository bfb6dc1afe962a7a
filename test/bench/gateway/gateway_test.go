package gateway_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/gatewayresolver"
)

var source = netip.MustParseAddr("198.51.100.12")

// zone is a DNS server on loopback answering from records, with one name
// and type whose queries it drops.
type zone struct {
	addr string
	rrs  []dns.RR
	mu   sync.Mutex
	drop string // "name TYPE"
}

func startZone(b *testing.B, lines ...string) *zone {
	b.Helper()
	z := &zone{}
	for _, l := range lines {
		f := strings.Fields(l)
		if f[3] == "AMTRELAY" {
			relay, err := amtrelayrr.Parse(strings.Join(f[4:], " "))
			if err != nil {
				b.Fatal(err)
			}
			rr, _ := relay.RR(dns.RR_Header{Name: f[0], Class: dns.ClassINET, Ttl: 60})
			z.rrs = append(z.rrs, rr)
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil {
			b.Fatal(err)
		}
		z.rrs = append(z.rrs, rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	b.Cleanup(func() { srv.Shutdown() })
	return z
}

func (z *zone) serve(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	z.mu.Lock()
	drop := z.drop
	z.mu.Unlock()
	if strings.EqualFold(q.Name+" "+dns.TypeToString[q.Qtype], drop) {
		return
	}
	m := new(dns.Msg).SetReply(req)
	exists := false
	for _, rr := range z.rrs {
		if strings.EqualFold(rr.Header().Name, q.Name) {
			exists = true
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// loopback is the source-address lookup of a host whose relays are all on
// loopback.
func loopback(dst netip.Addr) (gatewayresolver.Source, error) {
	if !dst.IsLoopback() {
		return gatewayresolver.Source{}, fmt.Errorf("%v: not on loopback", dst)
	}
	if dst.Is4() {
		return gatewayresolver.Source{Addr: netip.MustParseAddr("127.0.0.1"), PrefixLen: 8}, nil
	}
	return gatewayresolver.Source{Addr: netip.IPv6Loopback(), PrefixLen: 128}, nil
}

// dialLoopback refuses to send anywhere but loopback.
func dialLoopback(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() {
		panic("benchmark tried to connect to " + address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// resolver is a fresh Resolver (no hold-downs carried over) on loopback,
// with the default DNS timeouts: a dropped query is retried after 1 s,
// then after 1-2 s and 1-4 s more (RFC 8777 §3.5).
func resolver(server string, tiers ...gatewayresolver.Tier) *gatewayresolver.Resolver {
	return &gatewayresolver.Resolver{
		Servers: []string{server}, ResolvConf: "/nonexistent", Tiers: tiers,
		DNSSDDomains: []string{"example.net"},
		SourceFor:    loopback, DialUDP: dialLoopback,
		AttemptTimeout: 10 * time.Second,
	}
}

func startRelay(b *testing.B, addr string, beh amttest.Behaviour) *amttest.Relay {
	b.Helper()
	r, err := amttest.Start(addr)
	if err != nil {
		b.Fatal(err)
	}
	r.Set(beh)
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkFirstDiscovery times Dial from the call to the first Relay
// Discovery reaching a relay, with one DNS query of each kind dropped.
// The zone has a DNS-SD relay (PTR, SRV, TXT, A), a DRIAD type-1 relay at
// precedence 10, and a type-3 name at precedence 20 with an AAAA and an A
// record; all name the same live relay. A dropped query would keep a
// lookup waiting 3 to 7 s.
func BenchmarkFirstDiscovery(b *testing.B) {
	var (
		mu    sync.Mutex
		first time.Time
	)
	relay := startRelay(b, "127.0.0.1:0", amttest.Behaviour{OnReceive: func(msg []byte) {
		if _, err := amt.ParseDiscovery(msg); err == nil {
			mu.Lock()
			if first.IsZero() {
				first = time.Now()
			}
			mu.Unlock()
		}
	}})
	port := strconv.Itoa(int(relay.Addr().Port()))
	z := startZone(b,
		"_amt._udp.example.net. 60 IN PTR r._amt._udp.example.net.",
		"r._amt._udp.example.net. 60 IN SRV 0 0 "+port+" lo.example.net.",
		"r._amt._udp.example.net. 60 IN TXT \"v=1\"",
		"lo.example.net. 60 IN A 127.0.0.1",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 127.0.0.1",
		"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 20 0 3 name.example.net.",
		"name.example.net. 60 IN AAAA ::1",
		"name.example.net. 60 IN A 127.0.0.1",
	)
	for _, drop := range []string{
		"", "_amt._udp.example.net. PTR", "r._amt._udp.example.net. SRV", "r._amt._udp.example.net. TXT",
		"lo.example.net. A", "12.100.51.198.in-addr.arpa. AMTRELAY", "name.example.net. AAAA", "name.example.net. A",
	} {
		name := "none"
		if drop != "" {
			name = strings.ReplaceAll(drop, " ", "_")
		}
		b.Run(name, func(b *testing.B) {
			z.mu.Lock()
			z.drop = drop
			z.mu.Unlock()
			var total time.Duration
			for b.Loop() {
				r := resolver(z.addr, gatewayresolver.TierDNSSD, gatewayresolver.TierDRIAD)
				r.Port = relay.Addr().Port()
				mu.Lock()
				first = time.Time{}
				mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				start := time.Now()
				race, err := r.Dial(ctx, source)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				race.Close()
				mu.Lock()
				total += first.Sub(start)
				mu.Unlock()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-discovery")
		})
	}
}

// BenchmarkConnectPast times Connect past 0, 1, 3 and 5 dead relays ahead
// of a live one, with the default 250 ms Connection Attempt Delay: silent
// relays (a socket that never answers) cost a delay each; closed ports
// answer ICMP port unreachable, which fails the attempt at once.
func BenchmarkConnectPast(b *testing.B) {
	live := startRelay(b, "127.0.0.1:0", amttest.Behaviour{})
	var silent []netip.AddrPort
	for range 5 {
		silent = append(silent, startRelay(b, "127.0.0.1:0", amttest.Behaviour{Drop: true}).Addr())
	}
	for _, kind := range []string{"silent", "closed"} {
		for _, n := range []int{0, 1, 3, 5} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				for b.Loop() {
					dead := append([]netip.AddrPort(nil), silent[:n]...)
					if kind == "closed" {
						dead = closedPorts(b, n)
					}
					var cands []gatewayresolver.Candidate
					for _, a := range append(dead, live.Addr()) {
						cands = append(cands, gatewayresolver.Candidate{Addr: a, Tier: gatewayresolver.TierDRIAD, Usable: true})
					}
					r := resolver("127.0.0.1:1")
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					race, err := r.Connect(ctx, cands)
					cancel()
					if err != nil || race.Winners[0].Relay != live.Addr() {
						b.Fatal(err)
					}
					race.Close()
				}
			})
		}
	}
}

// closedPorts returns n loopback UDP ports where nothing listens.
func closedPorts(b *testing.B, n int) []netip.AddrPort {
	var out []netip.AddrPort
	for range n {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, pc.LocalAddr().(*net.UDPAddr).AddrPort())
		pc.Close()
	}
	return out
}

// BenchmarkBrokenIPv6 times Connect over a looked-up list whose DNS-SD
// priority group has three IPv6 relays that never answer (silent sockets
// on ::1) and two IPv4 ones that do. RFC 6724 puts IPv6 first (rule 6: ::1
// has precedence 50, IPv4 35). Without RFC 8305 §4 interleaving, the three
// IPv6 relays cost a 250 ms Connection Attempt Delay each before IPv4 is
// tried; with it (the default, First Address Family Count 1), one. The
// list comes from Lookup, once, so that the order does not depend on the
// order in which DNS answers arrive, as it would with Dial.
func BenchmarkBrokenIPv6(b *testing.B) {
	var lines []string
	for i := range 3 {
		r, err := amttest.Start("[::1]:0")
		if err != nil {
			b.Skipf("no ::1: %v", err)
		}
		r.Set(amttest.Behaviour{Drop: true})
		b.Cleanup(func() { r.Close() })
		lines = append(lines,
			fmt.Sprintf("_amt._udp.example.net. 60 IN PTR v6-%d._amt._udp.example.net.", i),
			fmt.Sprintf("v6-%d._amt._udp.example.net. 60 IN SRV 0 10 %d v6.example.net.", i, r.Addr().Port()))
	}
	for i := range 2 {
		r := startRelay(b, "127.0.0.1:0", amttest.Behaviour{})
		lines = append(lines,
			fmt.Sprintf("_amt._udp.example.net. 60 IN PTR v4-%d._amt._udp.example.net.", i),
			fmt.Sprintf("v4-%d._amt._udp.example.net. 60 IN SRV 0 10 %d v4.example.net.", i, r.Addr().Port()))
	}
	lines = append(lines, "v6.example.net. 60 IN AAAA ::1", "v4.example.net. 60 IN A 127.0.0.1")
	z := startZone(b, lines...)
	for _, tc := range []struct {
		name  string
		count int
	}{{"interleaved", 0}, {"not-interleaved", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			r := resolver(z.addr, gatewayresolver.TierDNSSD)
			r.FirstAddressFamilyCount = tc.count
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, err := r.Lookup(ctx, source)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			var order []string
			for _, c := range res.Candidates {
				order = append(order, c.Addr.Addr().String())
			}
			b.Logf("order %v", order)
			for b.Loop() {
				r := resolver(z.addr, gatewayresolver.TierDNSSD)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				race, err := r.Connect(ctx, res.Candidates)
				cancel()
				if err != nil || !race.Winners[0].Relay.Addr().Is4() {
					b.Fatal(err)
				}
				race.Close()
			}
		})
	}
}
