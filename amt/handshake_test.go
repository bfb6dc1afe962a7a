package amt_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
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

func startRelay(t *testing.T, addr string) *amttest.Relay {
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
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
// must not count.
func TestDiscoverIgnoresWrongSource(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Drop: true, DecoyFrom: listen(t), Decoys: func(reply []byte) [][]byte { return [][]byte{reply} }})
	var ig ignored
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := amt.Discover(ctx, listen(t), relay.Addr(), func(_ netip.AddrPort, err error) { ig.add(nil, err) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if len(ig.reasons) != 1 || !errors.Is(ig.reasons[0], amt.ErrSource) {
		t.Errorf("ignored %v, want one ErrSource", ig.reasons)
	}
}

func TestDiscoverCancel(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Drop: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := amt.Discover(ctx, listen(t), relay.Addr(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("cancel took %v", d)
	}
}

// TestDiscoverRetransmits: a relay that drops the first Discovery is found
// by the retransmission, which reuses the nonce (RFC 7450 §5.2.3.4.5).
func TestDiscoverRetransmits(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 1 s retransmission timer")
	}
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(amttest.Behaviour{Drop: true})
	time.AfterFunc(200*time.Millisecond, func() { relay.Set(amttest.Behaviour{}) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := amt.Discover(ctx, listen(t), relay.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	if n := relay.Discoveries(); n != 2 {
		t.Errorf("relay saw %d discoveries, want 2", n)
	}
}
