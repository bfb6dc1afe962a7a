package gatewayresolver

import (
	"net/netip"
	"sync"
	"time"
)

// maxHoldDowns bounds the entries of a HoldDown table; when it is full the
// entry that ends soonest makes room.
const maxHoldDowns = 4096

// HoldDown is a table of relays that must not be used until a time (RFC
// 8777 §3.3.4.1, §3.3.5). RFC 6724 §6 Rule 1 treats them as unusable
// destinations (RFC 8777 §3.1.2). Keys are the relay's own address and
// port: the address a Relay Advertisement gave, not the broker or anycast
// address the Discovery went to.
//
// The Resolver fills it itself: a relay that sets the L flag or advertises
// an unusable address is held down for Resolver.HoldDownTime; a Discovery
// or Request that times out holds its destination down for 30 s, then 60 s
// at the next consecutive timeout, and so on up to HoldDownTime; a
// successful connection clears both. Those hold-downs give way when nothing
// else is usable: a race then tries such relays rather than failing. Add is
// for the caller's own hold-downs, which never give way.
//
// The zero value is an empty table using time.Now; it is safe for
// concurrent use.
type HoldDown struct {
	// Now is the clock. Default time.Now. Set it before first use.
	Now func() time.Time

	mu sync.Mutex
	m  map[netip.AddrPort]*hold
}

type hold struct {
	until  time.Time
	reason string
	strict bool // set by Add: never tried while held
	// strikes counts consecutive timeouts; remembered until forget, past
	// the end of the hold-down, so that the next penalty doubles.
	strikes int
	forget  time.Time
}

func (h *HoldDown) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// Add holds relay down for d from now, with a reason. Such a hold-down is
// never overridden, not even when no other relay is usable, as RFC 8777
// §3.3.4.1 requires for a relay whose tunnel carried no traffic, the case
// Add is for. A longer existing hold-down is kept.
func (h *HoldDown) Add(relay netip.AddrPort, d time.Duration, reason string) {
	h.set(relay, d, reason, true)
}

// set holds relay down for d, keeping a longer hold-down.
func (h *HoldDown) set(relay netip.AddrPort, d time.Duration, reason string, strict bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entry(relay, now)
	until := now.Add(d)
	if e.until.After(until) {
		e.strict = e.strict || strict
		return
	}
	e.until, e.reason = until, reason
	e.strict = e.strict || strict
	if e.forget.Before(until) {
		e.forget = until
	}
}

// penalize holds relay down after a timeout: 30 s the first time, twice
// as long at each consecutive timeout, at most limit. It returns the
// length of this hold-down.
func (h *HoldDown) penalize(relay netip.AddrPort, limit time.Duration, reason string) time.Duration {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entry(relay, now)
	d := firstTimeoutPenalty
	for range e.strikes {
		if d >= limit {
			break
		}
		d *= 2
	}
	d = min(d, limit)
	e.strikes++
	until := now.Add(d)
	if until.After(e.until) {
		e.until, e.reason = until, reason
	}
	// Forget the strikes once the relay has been usable for as long as
	// the longest penalty.
	e.forget = e.until.Add(limit)
	return d
}

// succeeded clears what the Resolver put on relay: its hold-down, unless
// Add set it, and its timeout count.
func (h *HoldDown) succeeded(relay netip.AddrPort) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.m[relay]; ok && !e.strict {
		delete(h.m, relay)
	} else if ok {
		e.strikes = 0
	}
}

// entry returns relay's entry, making room for it if needed. h.mu is held.
func (h *HoldDown) entry(relay netip.AddrPort, now time.Time) *hold {
	if h.m == nil {
		h.m = make(map[netip.AddrPort]*hold)
	}
	if e, ok := h.m[relay]; ok {
		return e
	}
	if len(h.m) >= maxHoldDowns {
		h.prune(now)
		if len(h.m) >= maxHoldDowns {
			var first netip.AddrPort
			var soonest time.Time
			for k, v := range h.m {
				if soonest.IsZero() || v.forget.Before(soonest) {
					first, soonest = k, v.forget
				}
			}
			delete(h.m, first)
		}
	}
	e := &hold{}
	h.m[relay] = e
	return e
}

// Held reports whether relay is held down now, until when and why.
func (h *HoldDown) Held(relay netip.AddrPort) (until time.Time, reason string, held bool) {
	until, reason, held, _ = h.state(relay)
	return until, reason, held
}

// state is Held, and whether the hold-down was set by Add.
func (h *HoldDown) state(relay netip.AddrPort) (until time.Time, reason string, held, strict bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[relay]
	if !ok || !now.Before(e.until) {
		return time.Time{}, "", false, false
	}
	return e.until, e.reason, true, e.strict
}

// Remove ends relay's hold-down and forgets its timeouts.
func (h *HoldDown) Remove(relay netip.AddrPort) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, relay)
}

// Clear empties the table, as after a network change (RFC 8777 §3.3.2,
// event 7): relays held down on the old network may work on the new one.
func (h *HoldDown) Clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.m)
}

// Len returns the number of relays held down now.
func (h *HoldDown) Len() int {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prune(now)
	n := 0
	for _, e := range h.m {
		if now.Before(e.until) {
			n++
		}
	}
	return n
}

// prune drops entries that neither hold a relay down nor remember a
// timeout any more.
func (h *HoldDown) prune(now time.Time) {
	for k, e := range h.m {
		if !now.Before(e.until) && !now.Before(e.forget) {
			delete(h.m, k)
		}
	}
}
