package gatewayresolver_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/gatewayresolver"
)

func ExampleReverseName() {
	for _, s := range []string{"198.51.100.12", "2001:db8::a"} {
		name, _ := gatewayresolver.ReverseName(netip.MustParseAddr(s))
		fmt.Println(name)
	}
	// Output:
	// 12.100.51.198.in-addr.arpa.
	// a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.
}

// dualStack stands for the kernel's source-address choice on a host with
// global IPv4 and IPv6 addresses.
func dualStack(dst netip.Addr) (gatewayresolver.Source, error) {
	if dst.Is4() {
		return gatewayresolver.Source{Addr: netip.MustParseAddr("192.0.2.10"), PrefixLen: 24}, nil
	}
	return gatewayresolver.Source{Addr: netip.MustParseAddr("2001:db8:1::10"), PrefixLen: 64}, nil
}

// serveZone answers AMTRELAY queries for 198.51.100.12 with relays
// (presentation form) on loopback, and A queries for
// amtrelays.example.com with 203.0.113.16. It returns the server's address.
func serveZone(relays ...string) (addr string, stop func()) {
	const owner = "12.100.51.198.in-addr.arpa."
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		q := req.Question[0]
		switch {
		case q.Name == owner && q.Qtype == dns.TypeAMTRELAY:
			for _, s := range relays {
				r, _ := amtrelayrr.Parse(s)
				rr, _ := r.RR(dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: 60})
				m.Answer = append(m.Answer, rr)
			}
		case q.Name == "amtrelays.example.com." && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR("amtrelays.example.com. 60 IN A 203.0.113.16")
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	return pc.LocalAddr().String(), func() { srv.Shutdown() }
}

// Lookup lists the relays for a source in RFC 8777 §3.1.2 order. This
// example asks a DNS server it starts on loopback for the RFC 8777 §4.3.2
// records, and injects the source addresses so that the order does not
// depend on this host.
func ExampleResolver_Lookup() {
	addr, stop := serveZone("10 0 1 203.0.113.15", "10 0 2 2001:db8::15", "128 1 3 amtrelays.example.com.")
	defer stop()

	r := &gatewayresolver.Resolver{
		Servers:   []string{addr},
		Tiers:     []gatewayresolver.Tier{gatewayresolver.TierDRIAD},
		SourceFor: dualStack,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := r.Lookup(ctx, netip.MustParseAddr("198.51.100.12"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Candidates {
		fmt.Printf("%-15s precedence=%d D=%v\n", c.Addr.Addr(), c.Precedence, c.DiscoveryOptional)
	}
	// Output:
	// 2001:db8::15    precedence=10 D=false
	// 203.0.113.15    precedence=10 D=false
	// 203.0.113.16    precedence=128 D=true
}

// Dial looks up the relays for a source and connects to the best one that
// answers, without waiting for slow DNS answers. A zero Resolver reads
// /etc/resolv.conf and uses every tier; this example asks a DNS server it
// starts on loopback, whose AMTRELAY record names an AMT relay it also
// starts there.
func ExampleResolver_Dial() {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer relay.Close()
	addr, stop := serveZone("10 0 1 127.0.0.1")
	defer stop()

	r := &gatewayresolver.Resolver{
		Servers: []string{addr},
		Tiers:   []gatewayresolver.Tier{gatewayresolver.TierDRIAD},
		Port:    relay.Addr().Port(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	race, err := r.Dial(ctx, netip.MustParseAddr("198.51.100.12"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer race.Close() // or keep race.Winners[0].Conn for the tunnel
	w := race.Winners[0]
	fmt.Println(w.Relay.Addr(), w.Candidate.Tier, "precedence", w.Candidate.Precedence, race.Attempts[0].Outcome, "L flag:", w.Query.Limit)
	// Output:
	// 127.0.0.1 driad precedence 10 connected L flag: false
}

// Connect races candidates with Happy Eyeballs. This example starts an AMT
// relay on loopback.
func ExampleResolver_Connect() {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer relay.Close()

	var r gatewayresolver.Resolver
	cands := []gatewayresolver.Candidate{{Addr: relay.Addr(), Tier: gatewayresolver.TierDRIAD, Usable: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	race, err := r.Connect(ctx, cands)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer race.Close()
	w := race.Winners[0]
	fmt.Println(w.Relay.Addr(), race.Attempts[0].Outcome, "L flag:", w.Query.Limit)
	// Output:
	// 127.0.0.1 connected L flag: false
}
