package gatewayresolver

import (
	"net/netip"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func TestHoldDown(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	h := &HoldDown{Now: clock.Now}
	a := netip.MustParseAddrPort("203.0.113.15:2268")
	b := netip.MustParseAddrPort("203.0.113.15:2269")
	h.Add(a, 10*time.Minute, "L flag")
	if until, why, held := h.Held(a); !held || why != "L flag" || !until.Equal(clock.now.Add(10*time.Minute)) {
		t.Errorf("Held = %v %q %v", until, why, held)
	}
	if _, _, held := h.Held(b); held {
		t.Error("another port is held")
	}
	h.Add(a, time.Minute, "shorter") // keeps the longer hold-down
	clock.Advance(5 * time.Minute)
	if _, why, held := h.Held(a); !held || why != "L flag" {
		t.Errorf("after 5 min: held=%v %q", held, why)
	}
	clock.Advance(5 * time.Minute)
	if _, _, held := h.Held(a); held {
		t.Error("held after 10 minutes")
	}
	h.Add(b, time.Minute, "x")
	h.Remove(b)
	if h.Len() != 0 {
		t.Errorf("Len = %d", h.Len())
	}
}

func TestHoldDownBounded(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	h := &HoldDown{Now: clock.Now}
	for i := range maxHoldDowns + 10 {
		h.Add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 2268), time.Duration(i+1)*time.Second, "")
	}
	if n := h.Len(); n != maxHoldDowns {
		t.Errorf("Len = %d, want %d", n, maxHoldDowns)
	}
	if _, _, held := h.Held(netip.MustParseAddrPort("10.0.0.0:2268")); held {
		t.Error("the soonest-ending entry was kept")
	}
}

// TestHoldDownClear (issue #10): Clear empties the table, for a network
// change (RFC 8777 §3.3.2, event 7).
func TestHoldDownClear(t *testing.T) {
	h := &HoldDown{}
	a := netip.MustParseAddrPort("203.0.113.15:2268")
	h.Add(a, time.Hour, "no traffic")
	h.penalize(netip.MustParseAddrPort("203.0.113.16:2268"), time.Hour, "timeout")
	h.Clear()
	if _, _, held := h.Held(a); held || h.Len() != 0 {
		t.Errorf("held after Clear: %v, Len %d", held, h.Len())
	}
}

// TestHoldDownStrict: Add's hold-downs survive a success; the Resolver's
// own ones do not.
func TestHoldDownStrict(t *testing.T) {
	h := &HoldDown{}
	a := netip.MustParseAddrPort("203.0.113.15:2268")
	b := netip.MustParseAddrPort("203.0.113.16:2268")
	h.Add(a, time.Hour, "no traffic")
	h.set(b, time.Hour, "L flag set", false)
	h.succeeded(a)
	h.succeeded(b)
	if _, _, held, strict := h.state(a); !held || !strict {
		t.Errorf("Add's hold-down: held %v strict %v", held, strict)
	}
	if _, _, held := h.Held(b); held {
		t.Error("the L-flag hold-down survived a success")
	}
}
