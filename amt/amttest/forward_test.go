package amttest_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// TestRelayChecksUpdates: Updates with a wrong Response MAC, a nonce the
// relay never answered, or from another port than the Query went to,
// change nothing (RFC 7450 §5.3.3.4); the right one joins.
func TestRelayChecksUpdates(t *testing.T) {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	conn, err := net.Dial("udp", relay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	q, err := amt.QueryConn(ctx, conn, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := amt.Channel{Source: netip.MustParseAddr("127.0.0.1"), Group: netip.MustParseAddr("232.1.1.1")}
	join := amt.Join(ch.Source, ch.Group)
	badMAC := q
	badMAC.ResponseMAC[0] ^= 1
	badNonce := q
	badNonce.Nonce++
	other, err := net.Dial("udp", relay.Addr().String()) // another port: the MAC is for conn's
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	send := func(c net.Conn, q amt.MembershipQuery) {
		msg, err := q.Update(join).Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	send(conn, badMAC)
	send(conn, badNonce)
	send(other, q)
	conn.Write([]byte{0x05, 0, 1, 2}) // a truncated Update
	testenv.Eventually(t, "four Updates rejected", func() bool { return relay.Rejected() == 4 })
	if relay.Updates() != 0 || len(relay.Channels()) != 0 {
		t.Fatalf("relay took a bad Update: %d, %v", relay.Updates(), relay.Channels())
	}
	send(conn, q)
	testenv.Eventually(t, "the Update accepted", func() bool { return relay.Updates() == 1 })
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if m := relay.Members(ch); !slices.Equal(m, []netip.AddrPort{local}) {
		t.Errorf("members %v, want %v", m, local)
	}
}

// TestSenderPinned: the sender's socket has the multicast interface lo,
// TTL 0 and, as root, SO_BINDTODEVICE lo, read back from the socket; a
// sender refuses a TTL over 1 and a unicast destination.
func TestSenderPinned(t *testing.T) {
	s, err := amttest.NewSender("lo", netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Pinned(); err != nil {
		t.Fatal(err)
	}
	if s.BoundToDevice() != (os.Geteuid() == 0) {
		t.Errorf("bound to device: %v as uid %d", s.BoundToDevice(), os.Geteuid())
	}
	if _, err := amttest.NewSender("lo", netip.MustParseAddr("127.0.0.1"), 2); err == nil {
		t.Error("TTL 2 accepted")
	}
	if _, err := amttest.NewSender("lo", netip.MustParseAddr("127.0.0.2"), 0); err == nil {
		t.Error("a source that is not lo's address accepted")
	}
	if err := s.Send(netip.MustParseAddrPort("127.0.0.1:9"), []byte("x")); err == nil {
		t.Error("unicast destination accepted")
	}
}

// TestForwardKernel is the relay of the second kind: when a gateway joins
// (127.0.0.1, 232.1.1.1), it joins the channel on lo with
// IP_ADD_SOURCE_MEMBERSHIP and forwards what the host's stack delivers,
// sent by a pinned sender with TTL 0; when the gateway leaves, it stops.
func TestForwardKernel(t *testing.T) {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	port := uint16(testenv.FreePort(t))
	errs := make(chan error, 4)
	if err := relay.ForwardKernel("lo", port, func(err error) { errs <- err }); err != nil {
		t.Fatal(err)
	}
	sender, err := amttest.NewSender("lo", netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	if err := sender.Pinned(); err != nil {
		t.Fatalf("sender not pinned; not sending: %v", err)
	}
	conn, err := net.Dial("udp", relay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	gw := &amt.Gateway{Conn: conn}
	defer gw.Close()
	ch := amt.Channel{Source: netip.MustParseAddr("127.0.0.1"), Group: netip.MustParseAddr("232.1.1.1")}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	if err := gw.Join(ctx, ch.Source, ch.Group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay joins in the kernel", func() bool { return len(relay.Forwarding()) == 1 })
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	// Send until the first datagram comes through (the kernel join and
	// the sender race), at most once per 10 ms.
	got := make(chan amt.Data, 1)
	go func() {
		buf := make([]byte, 2048)
		d, err := gw.Read(ctx, buf)
		if err == nil {
			got <- d
		}
	}()
	to := netip.AddrPortFrom(ch.Group, port)
	var d amt.Data
	for d.Group != ch.Group {
		if err := sender.Send(to, []byte("kernel")); err != nil {
			t.Fatal(err)
		}
		select {
		case d = <-got:
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no data forwarded")
		}
	}
	if d.Source != ch.Source || d.SourcePort != sender.Addr().Port() || d.DestPort != port || string(d.Payload) != "kernel" {
		t.Errorf("forwarded %+v", d)
	}
	if err := gw.Leave(ch.Source, ch.Group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay leaves in the kernel", func() bool { return len(relay.Forwarding()) == 0 })
}
