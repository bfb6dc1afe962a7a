package gatewayresolver

import (
	"net/netip"
	"sync"
	"time"
)

// MaxHoldDowns bounds the entries of a HoldDown table; when it is full the
// entry that ends soonest makes room.
const MaxHoldDowns = 4096

// HoldDown is a table of relays that must not be used until a time: relays
// that failed or said they were full (RFC 8777 §3.3.4.1, §3.3.5). RFC 6724
// §6 Rule 1 treats them as unusable destinations (RFC 8777 §3.1.2). Keys
// are relay address and port. The zero value is an empty table using
// time.Now; it is safe for concurrent use.
type HoldDown struct {
	// Now is the clock. Default time.Now. Set it before first use.
	Now func() time.Time

	mu sync.Mutex
	m  map[netip.AddrPort]hold
}

type hold struct {
	until  time.Time
	reason string
}

func (h *HoldDown) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// Add holds relay down for d from now, with a reason such as "L flag set".
// A longer existing hold-down is kept.
func (h *HoldDown) Add(relay netip.AddrPort, d time.Duration, reason string) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[netip.AddrPort]hold)
	}
	until := now.Add(d)
	if old, ok := h.m[relay]; ok && old.until.After(until) {
		return
	}
	if _, ok := h.m[relay]; !ok && len(h.m) >= MaxHoldDowns {
		h.prune(now)
		if len(h.m) >= MaxHoldDowns {
			var first netip.AddrPort
			var soonest time.Time
			for k, v := range h.m {
				if soonest.IsZero() || v.until.Before(soonest) {
					first, soonest = k, v.until
				}
			}
			delete(h.m, first)
		}
	}
	h.m[relay] = hold{until: until, reason: reason}
}

// Held reports whether relay is held down now, until when and why.
func (h *HoldDown) Held(relay netip.AddrPort) (until time.Time, reason string, held bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[relay]
	if !ok {
		return time.Time{}, "", false
	}
	if !now.Before(v.until) {
		delete(h.m, relay)
		return time.Time{}, "", false
	}
	return v.until, v.reason, true
}

// Remove ends relay's hold-down early.
func (h *HoldDown) Remove(relay netip.AddrPort) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, relay)
}

// Len returns the number of relays held down now.
func (h *HoldDown) Len() int {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prune(now)
	return len(h.m)
}

func (h *HoldDown) prune(now time.Time) {
	for k, v := range h.m {
		if !now.Before(v.until) {
			delete(h.m, k)
		}
	}
}
