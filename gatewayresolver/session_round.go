package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// round is one discovery run of a Session. One runs at a time, for the
// slots that want one: all those without a relay (fill), or one slot
// whose relay is kept meanwhile (replace, recheck).
type round struct {
	kind   want
	slots  []*slot
	reason Reason
	kept   *Winner          // replace, recheck: the relay kept meanwhile
	taken  []netip.AddrPort // relays of the other slots
	start  time.Time
	gen    int

	race *Race
	res  *Result    // recheck: the lookup
	best *Candidate // recheck: the kept relay's candidate, if it is still among the best
	err  error
}

// schedule starts the next round, if one is wanted and none is running.
// s.mu is held.
func (s *Session) schedule() {
	if s.busy || s.stopped || !s.started {
		return
	}
	var fill []*slot
	for _, sl := range s.slots {
		if sl.want == wantFill {
			fill = append(fill, sl)
		}
	}
	if len(fill) > 0 {
		s.startRound(wantFill, fill)
		return
	}
	var next *slot
	for _, sl := range s.slots {
		if sl.w != nil && sl.want > wantNone && (next == nil || sl.want > next.want) {
			next = sl
		}
	}
	if next != nil {
		s.startRound(next.want, []*slot{next})
	}
}

// startRound starts a round for slots in the background; s.mu is held.
func (s *Session) startRound(kind want, slots []*slot) {
	rd := &round{kind: kind, slots: slots, reason: slots[0].why, taken: s.held(slots...), start: s.now(), gen: s.gen}
	if kind != wantFill {
		rd.kept = slots[0].w
	}
	for _, sl := range slots {
		sl.want, sl.inRound = wantNone, true
		if kind == wantFill {
			sl.state = StateDiscovering
		}
	}
	ev := Event{Kind: EventDiscovering, Reason: rd.reason}
	if rd.kept != nil {
		ev.Relay = rd.kept.Relay
	}
	s.emit(ev)
	ctx, cancel := context.WithCancel(s.ctx)
	s.busy, s.stopRd = true, cancel
	s.wg.Add(1)
	go s.runRound(ctx, rd)
}

// runRound looks up and connects, without the Session's lock, then hands
// the outcome to finish.
func (s *Session) runRound(ctx context.Context, rd *round) {
	defer s.wg.Done()
	r := s.res
	switch rd.kind {
	case wantFill:
		rd.race, rd.err = r.dialN(ctx, s.Source, len(rd.slots), rd.taken)
	case wantReplace:
		rd.race, rd.err = r.dialN(ctx, s.Source, 1, rd.taken)
	case wantRecheck:
		rd.res, rd.err = r.Lookup(ctx, s.Source)
		if rd.err == nil {
			rd.best = stillBest(r, rd.res, rd.kept.Candidate, rd.taken)
			if rd.best == nil {
				rd.race, rd.err = r.connectN(ctx, rd.res.Candidates, 1, rd.taken)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish(rd)
}

// finish applies a round's outcome; s.mu is held.
func (s *Session) finish(rd *round) {
	s.stopRd()
	s.busy, s.stopRd = false, nil
	for _, sl := range rd.slots {
		sl.inRound = false
	}
	var winners []Winner
	if rd.race != nil {
		winners = rd.race.Winners
	}
	if s.stopped || rd.gen != s.gen {
		closeWinners(winners)
		s.schedule()
		return
	}
	// A winner may have become unusable while the round ran: held down
	// with HoldDown.Add (by this Session or another), or taken by another
	// slot.
	var ok []Winner
	for _, w := range winners {
		_, _, held, strict := s.res.Holds().state(w.Relay)
		taken := slices.ContainsFunc(s.slots, func(sl *slot) bool {
			return sl.w != nil && sl.w.Relay == w.Relay && (rd.kept == nil || sl.w != rd.kept)
		})
		if (held && strict) || taken {
			closeWinners([]Winner{w})
			continue
		}
		ok = append(ok, w)
	}
	if rd.kind == wantFill {
		got := 0
		for _, sl := range rd.slots {
			if len(ok) > 0 {
				s.connect(sl, ok[0], rd)
				ok, got = ok[1:], got+1
			} else {
				s.failed(sl, rd, got)
			}
		}
		closeWinners(ok)
		s.schedule()
		return
	}

	sl := rd.slots[0]
	switch {
	case sl.w == nil:
		// Dropped while the round ran: the round fills it, or a fill
		// round follows (sl.want is wantFill).
		if len(ok) > 0 {
			s.connect(sl, ok[0], rd)
			ok = ok[1:]
		}
	case sl.w != rd.kept:
		// Cannot happen: only rounds give a slot a relay, one at a time.
	case rd.best != nil:
		s.stayed(sl, rd, rd.best)
	case rd.kind == wantRecheck && errors.Is(rd.err, ErrNoRelay):
		// The source's operator now says: no relay (RFC 8777 §4.2.3).
		s.drop(sl, rd.reason)
	case len(ok) > 0 && ok[0].Relay == sl.w.Relay:
		closeWinners(ok[:1])
		c := ok[0].Candidate
		s.stayed(sl, rd, &c)
		ok = ok[1:]
	case len(ok) > 0:
		old := sl.w.Relay
		s.disarmAll(sl)
		sl.from = old
		s.connect(sl, ok[0], rd)
		s.emit(Event{Kind: EventDropped, Relay: old, Reason: rd.reason})
		ok = ok[1:]
	default:
		s.keptAfterFailure(sl, rd)
	}
	closeWinners(ok)
	s.schedule()
}

// connect gives sl the relay w and sets its timers; s.mu is held.
func (s *Session) connect(sl *slot, w Winner, rd *round) {
	now := s.now()
	s.disarmAll(sl)
	sl.w, sl.since, sl.expires = &w, now, rd.start.Add(ttl(w.Candidate))
	sl.timeout = s.trafficTimeout(sl.absences)
	sl.failures, sl.want, sl.absent = 0, wantNone, time.Time{}
	sl.state = StateConnected
	sl.flow = &flow{relay: w.Relay}
	s.publish()
	s.arm(&sl.watchdog, now.Add(sl.timeout), func() { s.watch(sl) })
	s.armRecheck(sl, now.Add(s.longTerm()))
	s.emit(Event{Kind: EventConnected, Relay: w.Relay, From: sl.from, Reason: rd.reason, Until: now.Add(sl.timeout), Winner: &w})
	sl.from = netip.AddrPort{}
}

// stayed keeps sl's relay after a round found it still the one to use;
// c is its candidate in the new lookup, if known. s.mu is held.
func (s *Session) stayed(sl *slot, rd *round, c *Candidate) {
	if c != nil {
		sl.expires = rd.start.Add(ttl(*c))
	}
	if rd.kind == wantRecheck {
		s.armRecheck(sl, s.now().Add(s.longTerm()))
	}
	s.emit(Event{Kind: EventStayed, Relay: sl.w.Relay, Reason: rd.reason})
}

// keptAfterFailure keeps sl's relay after a round that was to replace or
// recheck it failed. A relay that set the L flag asked the gateway to go:
// a round tries again after a back-off. s.mu is held.
func (s *Session) keptAfterFailure(sl *slot, rd *round) {
	ev := Event{Kind: EventFailed, Relay: sl.w.Relay, Reason: rd.reason, Err: roundErr(rd, 0, 1)}
	switch {
	case rd.kind == wantRecheck:
		s.armRecheck(sl, s.now().Add(s.longTerm()))
	case rd.reason == ReasonLimit:
		sl.failures++
		ev.Until = s.now().Add(backoff(sl.failures-1, sessionRetryInitial, sessionRetryMax, s.int64n))
		s.arm(&sl.retry, ev.Until, func() { s.request(sl, wantReplace, ReasonLimit) })
	}
	s.emit(ev)
}

// failed leaves sl without a relay, and sets the retry: a random back-off
// in [1 s, min(2^n s, 120 s)], or, when every candidate was held down,
// the end of the first hold-down if that is later. s.mu is held.
func (s *Session) failed(sl *slot, rd *round, got int) {
	now := s.now()
	sl.failures++
	at := now.Add(backoff(sl.failures-1, sessionRetryInitial, sessionRetryMax, s.int64n))
	if rd.race != nil {
		var first time.Time
		usable := false
		for _, c := range rd.race.Candidates {
			usable = usable || c.Usable
			if !c.HeldUntil.IsZero() && (first.IsZero() || c.HeldUntil.Before(first)) {
				first = c.HeldUntil
			}
		}
		if !usable && first.After(at) {
			at = first
		}
	}
	sl.state = StateWaiting
	s.arm(&sl.retry, at, func() {
		sl.state, sl.want, sl.why = StateDiscovering, wantFill, ReasonRetry
		s.schedule()
	})
	s.emit(Event{Kind: EventFailed, Reason: rd.reason, Until: at, Err: roundErr(rd, got, len(rd.slots))})
}

// roundErr says why a round did not give a slot a relay.
func roundErr(rd *round, got, want int) error {
	switch {
	case rd.err != nil:
		return rd.err
	case want > 1:
		return fmt.Errorf("%w: %d of %d relays connected", ErrAllFailed, got, want)
	}
	return ErrAllFailed
}

// armRecheck sets the long-term timer (RFC 8777 §3.3.4.3): when it fires
// before the relay's records expire, it is set again, without a lookup;
// after, the Session looks the source up again. s.mu is held.
func (s *Session) armRecheck(sl *slot, at time.Time) {
	s.arm(&sl.recheck, at, func() {
		if sl.w == nil {
			return
		}
		now := s.now()
		if now.Before(sl.expires) {
			next := now.Add(s.longTerm())
			s.armRecheck(sl, next)
			s.emit(Event{Kind: EventScheduled, Relay: sl.w.Relay, Reason: ReasonLongTerm, Until: next})
			return
		}
		s.request(sl, wantRecheck, ReasonLongTerm)
	})
}

// request asks for a round for sl's relay, unless a stronger one is
// already wanted; s.mu is held.
func (s *Session) request(sl *slot, w want, why Reason) {
	if sl.w == nil || w <= sl.want {
		return
	}
	sl.want, sl.why = w, why
	s.schedule()
}

// drop takes sl's relay away and asks for a round to fill the slot; s.mu
// is held.
func (s *Session) drop(sl *slot, why Reason) {
	old := sl.w.Relay
	s.disarmAll(sl)
	sl.w, sl.flow = nil, nil
	s.publish()
	sl.from = old
	sl.state, sl.want, sl.why = StateDiscovering, wantFill, why
	s.emit(Event{Kind: EventDropped, Relay: old, Reason: why})
	s.schedule()
}

// stillBest returns the candidate cur in res if it is usable and no usable
// candidate, other than the relays taken, is in a better group: an
// earlier tier, a lower DRIAD precedence or SRV priority (RFC 8777
// §3.1.2). Within a group the order is RFC 6724's and pseudorandom, which
// is no reason to move (§3.3.3).
func stillBest(r *Resolver, res *Result, cur Candidate, taken []netip.AddrPort) *Candidate {
	rank := func(c Candidate) [3]int {
		t := slices.Index(r.tiers(), c.Tier)
		if t < 0 {
			t = len(r.tiers()) + int(c.Tier)
		}
		return [3]int{t, int(c.Precedence), int(c.Priority)}
	}
	var first, mine *Candidate
	for i := range res.Candidates {
		c := &res.Candidates[i]
		if !c.Usable {
			continue
		}
		if first == nil && !slices.Contains(taken, c.Addr) {
			first = c
		}
		if mine == nil && c.Addr == cur.Addr {
			mine = c
		}
	}
	if first == nil || mine == nil || rank(*first) != rank(*mine) {
		return nil
	}
	return mine
}

// ttl is how long the records a candidate came from stay valid.
func ttl(c Candidate) time.Duration { return time.Duration(c.TTL) * time.Second }

func closeWinners(ws []Winner) {
	for _, w := range ws {
		if w.Conn != nil {
			w.Conn.Close()
		}
	}
}
