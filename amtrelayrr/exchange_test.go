package amtrelayrr

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestExchangeSkipsStrayDatagrams: over UDP, datagrams that are not the
// reply (too short, or another ID with an undecodable body) are skipped,
// as Exchange documents, instead of failing the exchange.
func TestExchangeSkipsStrayDatagrams(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil {
			return
		}
		reply := new(dns.Msg).SetReply(q)
		rr, _ := ForAddr(10, true, netip.MustParseAddr("203.0.113.15")).RR(dns.RR_Header{Name: q.Question[0].Name, Class: dns.ClassINET})
		reply.Answer = []dns.RR{rr}
		good, _ := reply.Pack()
		pc.WriteTo([]byte{1, 2, 3}, from)                                     // shorter than a header
		pc.WriteTo(append([]byte{good[0] ^ 0xff, good[1]}, 0xff, 0xff), from) // wrong ID, short
		bad := append([]byte{good[0] ^ 0xff, good[1]}, good[2:len(good)-3]...)
		pc.WriteTo(bad, from) // wrong ID, truncated body
		pc.WriteTo(good, from)
	}()
	m := new(dns.Msg)
	m.SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, _, err := Exchange(ctx, &dns.Client{Net: "udp"}, m, pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if relay, err := FromRR(r.Answer[0]); err != nil || relay.String() != "10 1 1 203.0.113.15" {
		t.Errorf("answer %v, %v", relay, err)
	}
}
