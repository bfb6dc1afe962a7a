package gatewayresolver

import (
	"fmt"
	"net/netip"
	"time"
)

// The methods below are how the caller tells a Session what its tunnels
// and its host see: the restart events of RFC 8777 §3.3.2. Each names the
// relay concerned, as EventConnected gave it (Winner.Relay); an event for a
// relay the Session no longer holds is late, and ignored; the zero
// AddrPort names every relay the Session holds. They never block: a
// discovery round they start runs in the background. Before Run and after
// it they do nothing.

// TrafficSeen reports multicast data from relay. Call it for every packet,
// or at least once per traffic timeout: it only stores the time, except
// for a relay's first packet, which resets the back-off of RFC 8777
// §3.3.4.1 and is reported as EventTraffic.
func (s *Session) TrafficSeen(relay netip.AddrPort) {
	p := s.flows.Load()
	if p == nil {
		return
	}
	var now int64
	for _, f := range *p {
		if relay.IsValid() && f.relay != relay {
			continue
		}
		if now == 0 {
			now = s.now().UnixNano()
		}
		f.last.Store(now)
		if !f.seen.Load() && f.seen.CompareAndSwap(false, true) {
			s.firstTraffic(f)
		}
	}
}

func (s *Session) firstTraffic(f *flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.matching(f.relay) {
		if sl.flow != f {
			continue
		}
		// The relay works: consecutive restarts for absence of traffic
		// end, and so does the back-off (RFC 8777 §3.3.4.1).
		sl.absences, sl.state = 0, StateReceiving
		sl.timeout = s.trafficTimeout(0)
		s.emit(Event{Kind: EventTraffic, Relay: f.relay})
		s.watch(sl)
	}
}

// TrafficAbsent reports that the caller's own detection found no traffic
// from relay. The Session restarts discovery and holds relay down, as it
// does when its own traffic timeout expires (RFC 8777 §3.3.4.1), once relay
// has had its traffic timeout since it connected: at once if it has, and
// otherwise then, unless traffic comes meanwhile. The timeout's back-off
// is what gives the sending network time to propagate the join, and keeps
// consecutive restarts apart.
func (s *Session) TrafficAbsent(relay netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.matching(relay) {
		sl.absent = s.now()
		s.watch(sl)
	}
}

// absenceDue reports whether sl's relay is now to be declared without
// traffic, and if not, when it will be unless traffic comes: its traffic
// timeout after it connected or after its last traffic, whichever is
// later; or, once the caller has called TrafficAbsent and no traffic
// came since, its traffic timeout after it connected. s.mu is held.
func (s *Session) absenceDue(sl *slot, now time.Time) (bool, time.Time) {
	first := sl.since.Add(sl.timeout)
	next := first
	var last time.Time
	if n := sl.flow.last.Load(); n != 0 {
		last = time.Unix(0, n)
		if d := last.Add(sl.timeout); d.After(next) {
			next = d
		}
	}
	if !sl.absent.IsZero() && !last.After(sl.absent) {
		next = first
	}
	return !now.Before(next), next
}

// watch declares an absence of traffic if it is due, and sets the
// watchdog for when it will be otherwise. s.mu is held.
func (s *Session) watch(sl *slot) {
	if sl.w == nil {
		return
	}
	due, next := s.absenceDue(sl, s.now())
	if !due {
		s.arm(&sl.watchdog, next, func() { s.watch(sl) })
		return
	}
	// RFC 8777 §3.3.4.1: "Gateways restarting the discovery process
	// because of an absence of traffic MUST use a hold-down timer that
	// removes this relay from consideration during subsequent rounds of
	// discovery while active." HoldDown.Add: never tried meanwhile.
	relay := sl.w.Relay
	holds := s.res.Holds()
	holds.Add(relay, s.absenceHoldDown(), fmt.Sprintf("no traffic within %v", sl.timeout.Round(time.Millisecond)))
	until, _, _ := holds.Held(relay)
	s.emit(Event{Kind: EventHeldDown, Relay: relay, Reason: ReasonNoTraffic, Until: until})
	sl.absences++
	s.drop(sl, ReasonNoTraffic)
}

// Loss reports substantial loss, persistent congestion or overload in the
// traffic from relay (RFC 8777 §3.3.2, event 8). The Session schedules a
// restart at a random time within LossSpread (RFC 8777 §3.3.4.2: the
// cause may be upstream, and hit many gateways at once), reported as
// EventScheduled. The restart races for a relay while keeping this one,
// which is not held down: it stays if it wins again. Further Loss reports
// before the restart add nothing.
func (s *Session) Loss(relay netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.matching(relay) {
		if sl.restart != nil || sl.want >= wantReplace {
			continue
		}
		at := s.now().Add(s.spread())
		s.arm(&sl.restart, at, func() { s.request(sl, wantReplace, ReasonLoss) })
		s.emit(Event{Kind: EventScheduled, Relay: sl.w.Relay, Reason: ReasonLoss, Until: at})
	}
}

// Limit reports a Membership Query with the L flag from relay: it is
// loaded or shutting down (RFC 8777 §3.3.5). The Session holds relay down
// for LimitHoldDown, as the Resolver does a relay that sets L in a race,
// and races at once for another relay, keeping this one until one
// answers. If none does, it keeps relay and tries again after a back-off.
func (s *Session) Limit(relay netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.matching(relay) {
		r := sl.w.Relay
		holds := s.res.Holds()
		holds.set(r, s.limitHoldDown(), "L flag set", false)
		until, _, _ := holds.Held(r)
		s.emit(Event{Kind: EventHeldDown, Relay: r, Reason: ReasonLimit, Until: until})
		s.disarm(&sl.restart) // a loss restart would only repeat this one
		if sl.retry == nil {  // else a back-off after a failed round runs
			s.request(sl, wantReplace, ReasonLimit)
		}
	}
}

// NoResponse reports that a Request to relay got no response, after its
// retransmissions (RFC 8777 §3.3.2, event 4; RFC 7450 §5.2.3.5.3 says to
// restart discovery then). The Session drops relay, gives it the timeout
// penalty a race gives a relay that does not answer (30 s, doubling while
// it stays silent; see HoldDown), and races for a relay at once.
func (s *Session) NoResponse(relay netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.matching(relay) {
		r := sl.w.Relay
		holds := s.res.Holds()
		holds.penalize(r, s.res.holdDownTime(), "no response to a Request")
		until, _, _ := holds.Held(r)
		s.emit(Event{Kind: EventHeldDown, Relay: r, Reason: ReasonNoResponse, Until: until})
		s.drop(sl, ReasonNoResponse)
	}
}

// NetworkChanged reports that the host joined another network, or that
// its DNS-SD domains changed (RFC 8777 §3.3.2, event 7). The Session drops
// every relay, whose sockets were bound on the old network, abandons a
// round in progress, forgets its back-offs, and discovers again at once.
// The HoldDown table is shared with other Sessions and is not touched:
// call Resolver.Holds().Clear() once, before, if the hold-downs judged on
// the old network should go.
func (s *Session) NetworkChanged() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return
	}
	s.gen++
	if s.stopRd != nil {
		s.stopRd()
	}
	for _, sl := range s.slots {
		s.disarmAll(sl)
		if sl.w != nil {
			s.emit(Event{Kind: EventDropped, Relay: sl.w.Relay, Reason: ReasonNetworkChange})
			sl.from = sl.w.Relay
		}
		sl.w, sl.flow = nil, nil
		sl.absences, sl.failures = 0, 0
		sl.state, sl.want, sl.why = StateDiscovering, wantFill, ReasonNetworkChange
	}
	s.publish()
	s.schedule()
}

// RecordsChanged reports that the source's DNS records changed, as a
// gateway may learn from its own resolver. For each relay held the
// Session looks the source up again and moves only if a better relay
// appeared (as at the long-term timer, RFC 8777 §3.3.4.3; §3.3.3 asks to
// avoid needless restarts); a slot waiting to retry after a failed round
// retries at once.
func (s *Session) RecordsChanged() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return
	}
	for _, sl := range s.slots {
		switch {
		case sl.w != nil:
			s.request(sl, wantRecheck, ReasonRecordsChanged)
		case sl.state == StateWaiting:
			s.disarm(&sl.retry)
			sl.state, sl.want, sl.why = StateDiscovering, wantFill, ReasonRecordsChanged
		}
	}
	s.schedule()
}
