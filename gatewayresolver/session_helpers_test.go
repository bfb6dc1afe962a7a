package gatewayresolver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/amt/amttest"
)

// Session tests run real relays and a real DNS server on loopback, and
// the Session's timers on a manualClock. Nothing in them depends on how
// fast the machine is: rounds are awaited, with a generous limit, and
// every time asserted is the manual clock's.

// wait is how long a test waits for a round on a busy machine.
const wait = 30 * time.Second

const rfcOwner = "12.100.51.198.in-addr.arpa."

// sessionEnv is three relays on one port, a (127.0.0.1), b (127.0.0.2)
// and c (127.0.0.3), published for rfcSource as AMTRELAY records of
// precedence 10, 20 and 30, and a Resolver on a manual clock.
type sessionEnv struct {
	clock   *manualClock
	srv     *testServer
	a, b, c *amttest.Relay
	r       *Resolver
}

// newSessionEnv starts the relays and serves records (AMTRELAY RDATA in
// presentation form, such as "10 0 1 127.0.0.1"); by default those of a,
// b and c.
func newSessionEnv(t *testing.T, records ...string) *sessionEnv {
	t.Helper()
	relays, port, err := amttest.StartSamePort("127.0.0.1", "127.0.0.2", "127.0.0.3")
	if err != nil {
		t.Skip(err)
	}
	for _, r := range relays {
		t.Cleanup(func() { r.Close() })
	}
	if len(records) == 0 {
		records = []string{"10 0 1 127.0.0.1", "20 0 1 127.0.0.2", "30 0 1 127.0.0.3"}
	}
	e := &sessionEnv{clock: newManualClock(), a: relays[0], b: relays[1], c: relays[2]}
	e.srv = startServer(t, amtrelayLines(records...)...)
	e.r = testResolver(e.srv.Addr)
	e.r.Port = port
	e.r.HoldDown = &HoldDown{Now: e.clock.Now}
	e.r.AttemptTimeout = wait
	return e
}

func amtrelayLines(records ...string) []string {
	var out []string
	for _, r := range records {
		out = append(out, rfcOwner+" 60 IN AMTRELAY "+r)
	}
	return out
}

// publish replaces the AMTRELAY records served.
func (e *sessionEnv) publish(t *testing.T, records ...string) {
	t.Helper()
	var rrs []dns.RR
	for _, l := range amtrelayLines(records...) {
		rrs = append(rrs, mustRR(t, l))
	}
	e.srv.with(func() { e.srv.rrs = rrs })
}

// dnsQueries counts the AMTRELAY queries the server has seen.
func (e *sessionEnv) dnsQueries() int {
	n := 0
	for _, q := range e.srv.queries() {
		if strings.HasSuffix(q, " AMTRELAY") {
			n++
		}
	}
	return n
}

// session fills in s for env (Resolver, Source, Clock, a seeded Rand),
// runs it until the test ends, and returns the log of its events.
func (e *sessionEnv) session(t *testing.T, s *Session) *eventLog {
	t.Helper()
	if s.Resolver == nil {
		s.Resolver = e.r
	}
	s.Source, s.Clock = rfcSource, e.clock
	if s.Rand == nil {
		s.Rand = rand.New(rand.NewPCG(1, 2))
	}
	return runSession(t, s)
}

func runSession(t *testing.T, s *Session) *eventLog {
	t.Helper()
	log := watchEvents(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("Run did not return")
		}
		log.waitClosed(t)
	})
	return log
}

// markerKind marks a point in a Session's event queue (see eventLog.sync).
const markerKind EventKind = 255

// eventLog reads a Session's events as a gateway would: it keeps the
// socket of each relay connected and closes it when the relay is dropped.
type eventLog struct {
	mu      sync.Mutex
	events  []Event
	read    int
	markers int
	closed  bool
	change  chan struct{}
	conns   map[netip.AddrPort]net.Conn
}

func watchEvents(s *Session) *eventLog {
	l := &eventLog{change: make(chan struct{}), conns: map[netip.AddrPort]net.Conn{}}
	ch := s.Events()
	go func() {
		for ev := range ch {
			l.mu.Lock()
			switch ev.Kind {
			case markerKind:
				l.markers++
			case EventConnected:
				if old := l.conns[ev.Relay]; old != nil {
					old.Close()
				}
				l.conns[ev.Relay] = ev.Winner.Conn
				l.events = append(l.events, ev)
			case EventDropped:
				if c := l.conns[ev.Relay]; c != nil {
					c.Close()
					delete(l.conns, ev.Relay)
				}
				l.events = append(l.events, ev)
			default:
				l.events = append(l.events, ev)
			}
			close(l.change)
			l.change = make(chan struct{})
			l.mu.Unlock()
		}
		l.mu.Lock()
		for _, c := range l.conns {
			c.Close()
		}
		l.closed = true
		close(l.change)
		l.mu.Unlock()
	}()
	return l
}

// await waits until cond, checked under l.mu, holds.
func (l *eventLog) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		ok, ch := cond(), l.change
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited %v for %s; events:\n%s", wait, what, l.dump())
		}
	}
}

// expect returns the next events, which must be of the kinds given.
func (l *eventLog) expect(t *testing.T, kinds ...EventKind) []Event {
	t.Helper()
	var out []Event
	for _, k := range kinds {
		l.await(t, "a "+k.String()+" event", func() bool { return len(l.events) > l.read || l.closed })
		l.mu.Lock()
		if l.read >= len(l.events) {
			l.mu.Unlock()
			t.Fatalf("events closed; want %v; events:\n%s", k, l.dump())
		}
		ev := l.events[l.read]
		l.read++
		l.mu.Unlock()
		if ev.Kind != k {
			t.Fatalf("event %d is %v (%v), want %v; events:\n%s", l.read, ev.Kind, ev, k, l.dump())
		}
		out = append(out, ev)
	}
	return out
}

// none checks that no event came that expect has not taken, once s has
// settled.
func (l *eventLog) none(t *testing.T, s *Session) {
	t.Helper()
	l.settle(t, s)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.read != len(l.events) {
		t.Fatalf("unexpected events after event %d:\n%s", l.read, l.dumpLocked())
	}
}

// settle waits until s runs no round, and every event it emitted until
// then has been read.
func (l *eventLog) settle(t *testing.T, s *Session) {
	t.Helper()
	l.mu.Lock()
	want := l.markers + 1
	l.mu.Unlock()
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		busy := s.busy
		if !busy {
			s.events.push(Event{Kind: markerKind})
		}
		s.mu.Unlock()
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session ran a round for %v", wait)
		}
		time.Sleep(time.Millisecond)
	}
	l.await(t, "the queue to drain", func() bool { return l.markers >= want || l.closed })
}

func (l *eventLog) waitClosed(t *testing.T) {
	t.Helper()
	l.await(t, "Events to close", func() bool { return l.closed })
}

// conn returns the socket of relay.
func (l *eventLog) conn(relay netip.AddrPort) net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[relay]
}

func (l *eventLog) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dumpLocked()
}

func (l *eventLog) dumpLocked() string {
	var b strings.Builder
	for i, ev := range l.events {
		fmt.Fprintf(&b, "  %d %s %v\n", i+1, ev.Time.Format("15:04:05.000"), ev)
	}
	return b.String()
}

// status returns s's only (or first) tunnel.
func status(s *Session) Tunnel { return s.Status()[0] }

// heldStrict reports whether relay is held down, and whether by
// HoldDown.Add.
func heldStrict(r *Resolver, relay netip.AddrPort) (until time.Time, held, strict bool) {
	until, _, held, strict = r.Holds().state(relay)
	return until, held, strict
}
