package amt_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
)

func listen(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func startRelay(t testing.TB, addr string) *amttest.Relay {
	t.Helper()
	r, err := amttest.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

type ignored struct {
	mu      sync.Mutex
	reasons []error
}

func (i *ignored) add(_ any, err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.reasons = append(i.reasons, err)
}

func TestDiscoverAndQuery(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adv, err := amt.Discover(ctx, listen(t), relay.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if adv.Relay != relay.Addr().Addr() {
		t.Errorf("advertised %v, want %v", adv.Relay, relay.Addr().Addr())
	}
	q, err := amt.Query(ctx, listen(t), relay.Addr(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit {
		t.Error("L flag set")
	}
	relay.Set(amttest.Behaviour{Limit: true})
	if q, err = amt.Query(ctx, listen(t), relay.Addr(), true, nil); err != nil || !q.Limit {
		t.Errorf("full relay: %+v, %v", q, err)
	}
}

// TestDiscoverIgnoresBadReplies sends decoys before the genuine reply: each
// must be ignored with its reason, and the genuine one accepted.
func TestDiscoverIgnoresBadReplies(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Decoys: func(reply []byte) [][]byte {
		wrongNonce := append([]byte(nil), reply...)
		wrongNonce[7] ^= 0xff
		return [][]byte{
			wrongNonce,
			reply[:10],                         // truncated
			{0xde, 0xad, 0xbe, 0xef},           // garbage
			make([]byte, 1600),                 // oversized
			append([]byte{0x12}, reply[1:]...), // version 1
		}
	}})
	var ig ignored
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := amt.Discover(ctx, listen(t), relay.Addr(), func(_ netip.AddrPort, err error) { ig.add(nil, err) }); err != nil {
		t.Fatal(err)
	}
	want := []error{amt.ErrNonce, amt.ErrLength, amt.ErrVersion, amt.ErrLength, amt.ErrVersion}
	if len(ig.reasons) != len(want) {
		t.Fatalf("ignored %v, want %d reasons", ig.reasons, len(want))
	}
	for i, w := range want {
		if !errors.Is(ig.reasons[i], w) {
			t.Errorf("decoy %d ignored for %v, want %v", i, ig.reasons[i], w)
		}
	}
}

// TestDiscoverIgnoresWrongSource: a correct Advertisement from another port
// must not count. Once it has been ignored, the test cancels Discover,
// which must still be waiting.
func TestDiscoverIgnoresWrongSource(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Drop: true, DecoyFrom: listen(t), Decoys: func(reply []byte) [][]byte { return [][]byte{reply} }})
	var ig ignored
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := amt.Discover(ctx, listen(t), relay.Addr(), func(_ netip.AddrPort, err error) {
		ig.add(nil, err)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancelled", err)
	}
	if len(ig.reasons) != 1 || !errors.Is(ig.reasons[0], amt.ErrSource) {
		t.Errorf("ignored %v, want one ErrSource", ig.reasons)
	}
}

// noRetransmit is a PacketConn whose read deadlines in the future are an
// hour away: Discover's retransmission timer never ends a read, only a
// deadline in the past (or closing) does.
type noRetransmit struct{ net.PacketConn }

func (c noRetransmit) SetReadDeadline(t time.Time) error {
	if t.After(time.Now()) {
		t = time.Now().Add(time.Hour)
	}
	return c.PacketConn.SetReadDeadline(t)
}

// TestDiscoverCancel: cancelling ctx ends Discover at once, not at its
// next retransmission (here an hour away).
func TestDiscoverCancel(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Drop: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	pc := noRetransmit{listen(t)}
	done := make(chan error, 1)
	go func() {
		_, err := amt.Discover(ctx, pc, relay.Addr(), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Discover still running 10 s after it was cancelled")
	}
}

// TestDiscoverRetransmits: a relay that drops the first Discovery is found
// by the retransmission, which reuses the nonce (RFC 7450 §5.2.3.4.5).
func TestDiscoverRetransmits(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 1 s retransmission timer")
	}
	relay := startRelay(t, "127.0.0.1:0")
	// The genuine reply is dropped; from the second Discovery on, a copy
	// is sent as a "decoy" from the relay's own socket, which is the same.
	var answered atomic.Bool
	relay.Set(amttest.Behaviour{Drop: true, Decoys: func(reply []byte) [][]byte {
		if answered.Swap(true) {
			return [][]byte{reply}
		}
		return nil
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := amt.Discover(ctx, listen(t), relay.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	// A slow machine may retransmit again before reading the answer.
	if n := relay.Discoveries(); n < 2 {
		t.Errorf("relay saw %d discoveries, want at least 2", n)
	}
}

// TestConnectedSocket: DiscoverConn and QueryConn work over a socket
// connected to the relay, and a closed port fails the exchange at once
// with ECONNREFUSED (ICMP port unreachable) rather than at ctx's end.
func TestConnectedSocket(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	c, err := net.Dial("udp", relay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adv, err := amt.DiscoverConn(ctx, c, nil)
	if err != nil || adv.Relay != relay.Addr().Addr() {
		t.Fatalf("DiscoverConn: %v, %v", adv, err)
	}
	if q, err := amt.QueryConn(ctx, c, true, nil); err != nil || q.Limit {
		t.Fatalf("QueryConn: %+v, %v", q, err)
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	c2, err := net.Dial("udp", closed)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start := time.Now()
	_, err = amt.DiscoverConn(ctx, c2, nil)
	if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > 10*time.Second {
		t.Errorf("closed port: %v after %v", err, time.Since(start))
	}
}
