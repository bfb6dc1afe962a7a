package gatewayresolver_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/gatewayresolver"
)

// serveRecords answers queries from zone-file lines, on loopback, with
// the targets' addresses in the Additional section of SRV replies, and
// returns the server's address.
func serveRecords(lines ...string) (addr string, stop func()) {
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			panic(err)
		}
		rrs = append(rrs, rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		q := req.Question[0]
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, q.Name) && rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		for _, ans := range m.Answer {
			if srv, ok := ans.(*dns.SRV); ok {
				for _, rr := range rrs {
					if strings.EqualFold(rr.Header().Name, srv.Target) && rr.Header().Rrtype == dns.TypeA {
						m.Extra = append(m.Extra, rr)
					}
				}
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	return pc.LocalAddr().String(), func() { srv.Shutdown() }
}

// A gateway keeps a subscription on the right relay with a Session: it
// runs the Session, builds its tunnel on each relay the Session connects,
// tears down the tunnel of each relay it drops, and reports what the
// tunnel sees. Here DNS-SD, served on loopback, names two relays, also on
// loopback, by SRV priority; the first fills up and sets the L flag, and the Session fails
// over to the second (RFC 8777 §3.3.5).
func ExampleSession() {
	a, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer b.Close()
	dnsAddr, stop := serveRecords(
		"_amt._udp.example.net. 60 IN PTR relays._amt._udp.example.net.",
		fmt.Sprintf("relays._amt._udp.example.net. 60 IN SRV 1 0 %d lo.example.net.", a.Addr().Port()),
		fmt.Sprintf("relays._amt._udp.example.net. 60 IN SRV 2 0 %d lo.example.net.", b.Addr().Port()),
		"lo.example.net. 60 IN A 127.0.0.1",
	)
	defer stop()
	name := map[netip.AddrPort]string{a.Addr(): "relay a", b.Addr(): "relay b"}

	s := &gatewayresolver.Session{
		Resolver: &gatewayresolver.Resolver{
			Servers:      []string{dnsAddr},
			Tiers:        []gatewayresolver.Tier{gatewayresolver.TierDNSSD},
			DNSSDDomains: []string{"example.net"},
		},
		Source: netip.MustParseAddr("198.51.100.12"),
		// A source that may pause for up to a minute.
		TrafficTimeout: time.Minute,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	tunnels := map[netip.AddrPort]net.Conn{}
	for ev := range s.Events() {
		switch ev.Kind {
		case gatewayresolver.EventConnected:
			fmt.Printf("connected to %s (%s)\n", name[ev.Relay], ev.Reason)
			if ev.From.IsValid() {
				fmt.Printf("  failing over from %s\n", name[ev.From])
			}
			// The tunnel: the gateway sends its Membership Update on
			// ev.Winner.Conn, answering ev.Winner.Query, and reads the
			// data there. For each packet:
			tunnels[ev.Relay] = ev.Winner.Conn
			s.TrafficSeen(ev.Relay)
			if ev.Relay == b.Addr() {
				cancel() // the viewer leaves
				continue
			}
			// Relay a fills up: the Membership Query of the next
			// membership cycle has the L flag.
			a.Set(amttest.Behaviour{Limit: true})
			if q, err := amt.QueryConn(ctx, ev.Winner.Conn, false, nil); err == nil && q.Limit {
				s.Limit(ev.Relay)
			}
		case gatewayresolver.EventTraffic:
			fmt.Printf("traffic from %s\n", name[ev.Relay])
		case gatewayresolver.EventHeldDown:
			fmt.Printf("%s held down for %v: %s\n", name[ev.Relay], ev.Until.Sub(ev.Time).Round(time.Minute), ev.Reason)
		case gatewayresolver.EventDropped:
			// A Teardown would go here (RFC 7450 §5.2.3.4.4).
			tunnels[ev.Relay].Close()
			delete(tunnels, ev.Relay)
			fmt.Printf("dropped %s: %s\n", name[ev.Relay], ev.Reason)
		default:
			fmt.Println(ev.Kind, ev.Reason)
		}
	}
	fmt.Println(<-done)
	// Output:
	// discovering new subscription (RFC 8777 §3.3.2, events 2 and 6)
	// connected to relay a (new subscription (RFC 8777 §3.3.2, events 2 and 6))
	// traffic from relay a
	// relay a held down for 10m0s: L flag set (RFC 8777 §3.3.5)
	// discovering L flag set (RFC 8777 §3.3.5)
	// connected to relay b (L flag set (RFC 8777 §3.3.5))
	//   failing over from relay a
	// dropped relay a: L flag set (RFC 8777 §3.3.5)
	// traffic from relay b
	// dropped relay b: session stopped
	// context canceled
}
