package gatewayresolver

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// testServer is an authoritative-style DNS server on loopback (UDP and TCP
// on one port) serving a list of records, with knobs to misbehave.
type testServer struct {
	Addr string

	mu sync.Mutex
	// rrs are the records served.
	rrs []dns.RR
	// chase makes the server follow CNAMEs and DNAMEs within its data, as
	// a recursive resolver does; otherwise it stops at the first link.
	chase bool
	// additional adds the targets' A and AAAA records to SRV replies.
	additional bool
	// truncateUDP answers every UDP query with TC=1 and no records.
	truncateUDP bool
	// delay holds replies back per "name/TYPE".
	delay map[string]time.Duration
	// drop drops this many queries per "name/TYPE" before answering.
	drop map[string]int
	// rcode, if set per "name/TYPE", answers with that rcode.
	rcode map[string]int
	// raw, if set, may replace the reply with raw bytes.
	raw func(req *dns.Msg) []byte
	// log records "udp name TYPE" for each query.
	log []string
}

func qkey(name string, qtype uint16) string {
	return strings.ToLower(dns.Fqdn(name)) + "/" + dns.TypeToString[qtype]
}

// startServer serves rrs (zone-file lines; lines starting with "AMTRELAY "
// after the owner are built with amtrelayrr so D=1 packs right).
func startServer(t *testing.T, lines ...string) *testServer {
	t.Helper()
	s := &testServer{delay: map[string]time.Duration{}, drop: map[string]int{}, rcode: map[string]int{}}
	s.add(t, lines...)
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free port for UDP and TCP")
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

// add parses zone-file lines such as "x.example. 60 IN A 192.0.2.1" or
// "12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 1 1 203.0.113.15".
func (s *testServer) add(t *testing.T, lines ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		s.rrs = append(s.rrs, mustRR(t, l))
	}
}

func mustRR(t testing.TB, line string) dns.RR {
	t.Helper()
	f := strings.Fields(line)
	if len(f) >= 5 && f[3] == "AMTRELAY" {
		relay, err := amtrelayrr.Parse(strings.Join(f[4:], " "))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		rr, err := relay.RR(dns.RR_Header{Name: dns.Fqdn(f[0]), Class: dns.ClassINET, Ttl: 60})
		if err != nil {
			t.Fatal(err)
		}
		return rr
	}
	rr, err := dns.NewRR(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return rr
}

// with runs f, which may change the server's fields, under its lock.
func (s *testServer) with(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

func (s *testServer) queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *testServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	key := qkey(q.Name, q.Qtype)
	proto := w.LocalAddr().Network()
	s.mu.Lock()
	s.log = append(s.log, proto+" "+strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype])
	if s.drop[key] > 0 {
		s.drop[key]--
		s.mu.Unlock()
		return
	}
	delay, raw := s.delay[key], s.raw
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if raw != nil {
		if b := raw(req); b != nil {
			w.Write(b)
			return
		}
	}
	m := s.reply(req, proto)
	w.WriteMsg(m)
}

func (s *testServer) reply(req *dns.Msg, proto string) *dns.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := req.Question[0]
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if rc, ok := s.rcode[qkey(q.Name, q.Qtype)]; ok {
		m.Rcode = rc
		return m
	}
	if s.truncateUDP && proto == "udp" {
		m.Truncated = true
		return m
	}
	name := q.Name
	for range 20 {
		var found []dns.RR
		exists := false
		for _, rr := range s.rrs {
			if !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			exists = true
			if rr.Header().Rrtype == q.Qtype {
				found = append(found, rr)
			}
		}
		if len(found) > 0 {
			m.Answer = append(m.Answer, found...)
			if s.additional {
				for _, rr := range found {
					if srv, ok := rr.(*dns.SRV); ok {
						for _, x := range s.rrs {
							if strings.EqualFold(x.Header().Name, srv.Target) && (x.Header().Rrtype == dns.TypeA || x.Header().Rrtype == dns.TypeAAAA) {
								m.Extra = append(m.Extra, x)
							}
						}
					}
				}
			}
			return m
		}
		var next string
		for _, rr := range s.rrs {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, name) {
				m.Answer = append(m.Answer, cn)
				next = cn.Target
				break
			}
		}
		if next == "" {
			for _, rr := range s.rrs {
				if dn, ok := rr.(*dns.DNAME); ok && dns.IsSubDomain(dn.Hdr.Name, name) && !strings.EqualFold(dn.Hdr.Name, name) {
					labels := dns.Split(name)
					next = name[:labels[len(labels)-dns.CountLabel(dn.Hdr.Name)]] + dn.Target
					m.Answer = append(m.Answer, dn, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: next})
					break
				}
			}
		}
		if next == "" {
			if !exists && len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
			return m
		}
		if !s.chase {
			return m
		}
		name = next
	}
	return m
}

// testSources is a host with a global IPv4 and a global IPv6 address: the
// source-address lookup tests inject instead of asking the kernel, so no
// documentation address is ever connected to.
func testSources(dst netip.Addr) (Source, error) {
	dst = dst.Unmap()
	switch {
	case dst.IsLoopback() && dst.Is4():
		return Source{Addr: netip.MustParseAddr("127.0.0.1"), PrefixLen: 8}, nil
	case dst.IsLoopback():
		return Source{Addr: netip.IPv6Loopback(), PrefixLen: 128}, nil
	case dst.Is4():
		return Source{Addr: netip.MustParseAddr("10.1.2.3"), PrefixLen: 24}, nil
	}
	return Source{Addr: netip.MustParseAddr("2001:db8:ffff::2"), PrefixLen: 64}, nil
}

// v4OnlySources is a host without IPv6.
func v4OnlySources(dst netip.Addr) (Source, error) {
	if !dst.Unmap().Is4() {
		return Source{}, &net.OpError{Op: "dial", Err: errNoRoute}
	}
	return testSources(dst)
}

var errNoRoute = &net.AddrError{Err: "network is unreachable"}

// testResolver is a Resolver that talks only to the given servers, never
// reads the host's resolv.conf, uses DRIAD only (tests add tiers), and
// uses testSources, no host interfaces, loopback-only sockets and a seeded
// tie-break. Its DNS timeouts (2 s, then up to 10 s) leave a slow machine
// time to answer; tests of timeouts set their own.
func testResolver(servers ...string) *Resolver {
	return &Resolver{
		Servers:        servers,
		ResolvConf:     "/nonexistent/resolv.conf",
		Tiers:          []Tier{TierDRIAD},
		InterfaceAddrs: func() ([]netip.Prefix, error) { return nil, nil },
		SourceFor:      testSources,
		DialUDP:        (&socketTracker{}).DialUDP,
		Rand:           rand.New(rand.NewPCG(1, 2)),
		RetryInitial:   2 * time.Second,
		RetryMax:       10 * time.Second,
	}
}

// rfc8777Zone is the RFC 8777 §4.3.2 example (errata-corrected), with
// addresses for the type-3 name.
var rfc8777Zone = []string{
	"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 1 203.0.113.15",
	"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 10 0 2 2001:db8::15",
	"12.100.51.198.in-addr.arpa. 60 IN AMTRELAY 128 1 3 amtrelays.example.com.",
	"amtrelays.example.com. 60 IN A 203.0.113.16",
	"amtrelays.example.com. 60 IN AAAA 2001:db8::16",
}

func addrsOfCands(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		if c.Addr.IsValid() {
			out = append(out, c.Addr.Addr().String())
		} else {
			out = append(out, strings.TrimSuffix(c.Name, ".")+"?")
		}
	}
	return out
}
