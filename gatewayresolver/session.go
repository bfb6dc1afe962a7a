package gatewayresolver

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Session's zero-valued fields, and fixed limits.
const (
	defaultTrafficTimeout    = 4 * time.Second   // RFC 8777 §3.3.4.1 initial_timeout
	defaultTrafficTimeoutMax = 120 * time.Second // RFC 8777 §3.3.4.1 maximum_timeout
	defaultAbsenceHoldDown   = 3 * time.Minute   // RFC 8777 §3.3.4.1: 3 to 10 minutes
	defaultLossSpread        = 10 * time.Second  // RFC 8777 §3.3.4.2: at least 10 s
	defaultLongTerm          = 6 * time.Hour     // RFC 8777 §3.3.4.3: multiple hours or days
	sessionRetryInitial      = time.Second       // after a failed round: as RFC 7450 §5.2.3.4.3 ...
	sessionRetryMax          = 120 * time.Second // ... retransmits a Relay Discovery
)

// A Session keeps one (S,G) subscription on the right AMT relay, applying
// the restart rules of RFC 8777 §3.3. The caller owns the tunnel: it sends
// the Membership Updates and reads the data on the socket each
// EventConnected hands over, and tells the Session what it sees (traffic,
// an L flag, loss, a Request without response) through TrafficSeen,
// Limit, Loss and NoResponse, and what the host sees through
// NetworkChanged and RecordsChanged. The Session owns the choice of relay:
// it discovers and connects with its Resolver, and reports each change on
// Events.
//
// A Session never blocks on its caller: events wait in a queue until they
// are read. Each Session decides for its own relays only (RFC 8777
// §3.3.7); Sessions that share a Resolver share its HoldDown table, so a
// relay one of them holds down is avoided by the others' later rounds, as
// RFC 8777 §3.1.2 treats held-down relays, but no relay in use by another
// Session is dropped for it.
//
// The zero value is ready to use: a zero Resolver, one relay, the timers
// RFC 8777 recommends, the system clock; set Source for DRIAD. Fields must
// not change once Run has started. A Session runs once.
type Session struct {
	// Resolver discovers and connects the relays; its HoldDown table
	// holds the Session's hold-downs. Default a zero Resolver of the
	// Session's own. Give its HoldDown the Session's Clock (HoldDown.Now)
	// when the Clock is not the system clock.
	Resolver *Resolver
	// Source is S of the (S,G) subscription. When invalid, only the tiers
	// that need no source run (DNS-SD and anycast; RFC 8777 §3.3.2 event
	// 1).
	Source netip.Addr
	// Relays is how many distinct relays the Session holds at once: more
	// than one is RFC 8777 §3.1.3's active/active model. Default 1.
	Relays int

	// TrafficTimeout and TrafficTimeoutMax bound the time a relay has to
	// deliver traffic before the Session declares it absent: after n
	// consecutive restarts for absence of traffic, a random time in
	// [TrafficTimeout, min(TrafficTimeout·2^n, TrafficTimeoutMax)] (RFC
	// 8777 §3.3.4.1). The same timeout applies to a gap in traffic that
	// has flowed (§3.3.2 event 9). Defaults 4 s and 120 s.
	TrafficTimeout, TrafficTimeoutMax time.Duration
	// AbsenceHoldDown is how long a relay that carried no traffic is held
	// down, with HoldDown.Add: it is never tried meanwhile (RFC 8777
	// §3.3.4.1: a MUST, which SHOULD last 3 to 10 minutes). Default 3
	// minutes.
	AbsenceHoldDown time.Duration
	// LimitHoldDown is how long a relay that sets the L flag is held down
	// (RFC 8777 §3.3.5: about 10 minutes). Default the Resolver's
	// HoldDownTime, 10 minutes.
	LimitHoldDown time.Duration
	// LossSpread is the span of the random delay before a restart for loss
	// or congestion, so that gateways hit by one upstream event do not
	// restart together (RFC 8777 §3.3.4.2: at least 10 s by default).
	// Default 10 s.
	LossSpread time.Duration
	// LongTerm is the long-term timer (RFC 8777 §3.3.4.3): when it fires
	// and the DNS records the relay came from have expired (their TTL,
	// Candidate.TTL, counted from the discovery), the Session looks the
	// source up again and moves only if a better relay appeared; when they
	// have not, it sets the timer again. Default 6 hours.
	LongTerm time.Duration

	// Clock runs every timer of the Session. Default the system clock.
	Clock Clock
	// Rand draws the traffic timeouts and the loss spread. Default the
	// math/rand/v2 global source. The Session serialises its use.
	Rand *rand.Rand

	once   sync.Once
	events *eventQueue
	res    *Resolver

	mu      sync.Mutex
	started bool
	stopped bool
	ctx     context.Context
	cancel  context.CancelFunc
	slots   []*slot
	busy    bool               // a round is running
	stopRd  context.CancelFunc // cancels the running round
	gen     int                // bumped by NetworkChanged: older rounds' results are thrown away
	wg      sync.WaitGroup     // running rounds
	flows   atomic.Pointer[[]*flow]
}

// slot is one relay the Session holds, or wants.
type slot struct {
	state    State
	w        *Winner // the relay held; nil when none
	flow     *flow
	since    time.Time     // when w connected
	expires  time.Time     // when the records w came from expire
	timeout  time.Duration // the traffic timeout of this connection
	absent   time.Time     // when the caller called TrafficAbsent
	absences int           // consecutive restarts for absence of traffic (RFC 8777 §3.3.4.1 retry_count)
	failures int           // consecutive failed rounds
	want     want          // the round the slot waits for
	why      Reason        // why it wants it
	from     netip.AddrPort
	inRound  bool

	watchdog, recheck, restart, retry *sessionTimer
}

// flow is what TrafficSeen touches, without the Session's lock: it may
// be called for every packet.
type flow struct {
	relay netip.AddrPort
	last  atomic.Int64 // UnixNano of the last traffic; 0: none
	seen  atomic.Bool
}

// want is the round a slot waits for, in rising priority.
type want uint8

const (
	wantNone    want = iota
	wantRecheck      // look the source up; move only to a better relay (§3.3.4.3)
	wantReplace      // race for another relay, keeping this one meanwhile
	wantFill         // no relay: race for one
)

// Tunnel is the state of one of the relays a Session holds or wants, and
// of its timers, as Status reports it. Zero times are timers not set.
type Tunnel struct {
	State State
	// Relay is the relay held; zero when none.
	Relay netip.AddrPort
	// Since is when Relay connected.
	Since time.Time
	// Traffic is set once traffic has come from Relay.
	Traffic bool
	// TrafficTimeout is Relay's traffic timeout (RFC 8777 §3.3.4.1), and
	// TrafficDeadline when the Session declares an absence of traffic if
	// none comes before.
	TrafficTimeout  time.Duration
	TrafficDeadline time.Time
	// Expires is when the DNS records Relay came from expire.
	Expires time.Time
	// Recheck is when the long-term timer fires (RFC 8777 §3.3.4.3).
	Recheck time.Time
	// Restart is when a restart for loss takes place (RFC 8777 §3.3.4.2).
	Restart time.Time
	// Retry is when the next round starts, after a failed one.
	Retry time.Time
	// Absences counts the consecutive restarts for absence of traffic.
	Absences int
}

// sessionTimer is a timer of a Session's Clock and when it fires.
type sessionTimer struct {
	t  Timer
	at time.Time
}

func (t *sessionTimer) when() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.at
}

func (s *Session) init() {
	s.once.Do(func() {
		s.events = newEventQueue()
		s.res = s.Resolver
		if s.res == nil {
			s.res = new(Resolver)
		}
		for range max(s.Relays, 1) {
			s.slots = append(s.slots, &slot{state: StateIdle})
		}
	})
}

// Events returns the channel on which the Session reports what it does,
// in order. Read it until it is closed, after Run has returned: the
// sockets of EventConnected are handed over there, and events wait,
// unbounded, until they are read.
func (s *Session) Events() <-chan Event {
	s.init()
	return s.events.ch
}

// Run discovers and connects relays for the Session's Source, and keeps
// them right until ctx ends; then it reports every relay held as dropped
// (ReasonStopped), closes Events once they are read, and returns ctx's
// error. The discovery rounds run in the background: Run and the event
// methods never wait for one. It returns ErrSessionStarted if the Session
// has run before.
func (s *Session) Run(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return ErrSessionStarted
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	for _, sl := range s.slots {
		sl.state, sl.want, sl.why = StateDiscovering, wantFill, ReasonStart
	}
	go s.events.run()
	s.schedule()
	s.mu.Unlock()

	<-s.ctx.Done()

	s.mu.Lock()
	s.stopped = true
	for _, sl := range s.slots {
		s.disarmAll(sl)
	}
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	for _, sl := range s.slots {
		if sl.w != nil {
			s.emit(Event{Kind: EventDropped, Relay: sl.w.Relay, Reason: ReasonStopped})
		}
		sl.w, sl.flow, sl.state = nil, nil, StateStopped
	}
	s.publish()
	s.mu.Unlock()
	s.events.close()
	return ctx.Err()
}

// Status returns the state of each relay the Session holds or wants, and
// of its timers.
func (s *Session) Status() []Tunnel {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Tunnel, 0, len(s.slots))
	for _, sl := range s.slots {
		t := Tunnel{
			State: sl.state, Absences: sl.absences,
			Recheck: sl.recheck.when(), Restart: sl.restart.when(), Retry: sl.retry.when(),
		}
		if sl.w != nil {
			t.Relay, t.Since, t.Expires = sl.w.Relay, sl.since, sl.expires
			t.Traffic = sl.flow.seen.Load()
			t.TrafficTimeout = sl.timeout
			_, t.TrafficDeadline = s.absenceDue(sl, s.now())
		}
		out = append(out, t)
	}
	return out
}

func (s *Session) clock() Clock {
	if s.Clock == nil {
		return systemClock{}
	}
	return s.Clock
}

func (s *Session) now() time.Time { return s.clock().Now() }

// int64n draws from Rand; s.mu is held.
func (s *Session) int64n(n int64) int64 {
	if s.Rand == nil {
		return rand.Int64N(n)
	}
	return s.Rand.Int64N(n)
}

func (s *Session) trafficTimeout(n int) time.Duration {
	initial := orPositive(s.TrafficTimeout, defaultTrafficTimeout)
	return backoff(n, initial, max(orPositive(s.TrafficTimeoutMax, defaultTrafficTimeoutMax), initial), s.int64n)
}

func (s *Session) absenceHoldDown() time.Duration {
	return orPositive(s.AbsenceHoldDown, defaultAbsenceHoldDown)
}

func (s *Session) limitHoldDown() time.Duration {
	return orPositive(s.LimitHoldDown, s.res.holdDownTime())
}

func (s *Session) longTerm() time.Duration { return orPositive(s.LongTerm, defaultLongTerm) }

// spread is the random delay before a restart for loss: uniform in
// [0, LossSpread] (RFC 8777 §3.3.4.2).
func (s *Session) spread() time.Duration {
	span := orPositive(s.LossSpread, defaultLossSpread)
	return time.Duration(s.int64n(int64(span) + 1))
}

// emit queues an event, stamped with the time; s.mu is held.
func (s *Session) emit(ev Event) {
	ev.Time = s.now()
	s.events.push(ev)
}

// arm sets the timer *p to run f, under s.mu, at at; a timer already
// there is stopped. A timer stopped too late to keep its func from
// starting finds itself replaced and does nothing. s.mu is held.
func (s *Session) arm(p **sessionTimer, at time.Time, f func()) {
	s.disarm(p)
	tok := &sessionTimer{at: at}
	*p = tok
	tok.t = s.clock().AfterFunc(at.Sub(s.now()), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if *p != tok || s.stopped {
			return
		}
		*p = nil
		f()
	})
}

func (s *Session) disarm(p **sessionTimer) {
	if *p != nil {
		(*p).t.Stop()
		*p = nil
	}
}

func (s *Session) disarmAll(sl *slot) {
	for _, p := range []**sessionTimer{&sl.watchdog, &sl.recheck, &sl.restart, &sl.retry} {
		s.disarm(p)
	}
}

// publish makes the flows of the relays held visible to TrafficSeen;
// s.mu is held.
func (s *Session) publish() {
	var fs []*flow
	for _, sl := range s.slots {
		if sl.flow != nil {
			fs = append(fs, sl.flow)
		}
	}
	s.flows.Store(&fs)
}

// held returns the relays the slots other than except hold; s.mu is held.
func (s *Session) held(except ...*slot) []netip.AddrPort {
	var out []netip.AddrPort
	for _, sl := range s.slots {
		if sl.w != nil && !slices.Contains(except, sl) {
			out = append(out, sl.w.Relay)
		}
	}
	return out
}

// matching returns the slots holding relay, or every slot holding one
// when relay is zero; none before Run or after it. s.mu is held.
func (s *Session) matching(relay netip.AddrPort) []*slot {
	if !s.started || s.stopped {
		return nil
	}
	var out []*slot
	for _, sl := range s.slots {
		if sl.w != nil && (!relay.IsValid() || sl.w.Relay == relay) {
			out = append(out, sl)
		}
	}
	return out
}
