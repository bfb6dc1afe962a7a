package gatewayresolver

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
)

// TestSessionConnects: Run discovers, connects to the best relay, and
// sets the traffic timer (4 s: no restart yet, RFC 8777 §3.3.4.1) and the
// long-term timer (6 h by default, §3.3.4.3).
func TestSessionConnects(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	t0 := e.clock.Now()
	ev := log.expect(t, EventDiscovering, EventConnected)
	if ev[0].Reason != ReasonStart || ev[0].Relay.IsValid() {
		t.Errorf("first event %v", ev[0])
	}
	c := ev[1]
	if c.Relay != e.a.Addr() || c.From.IsValid() || c.Winner == nil || c.Winner.Conn == nil || c.Winner.Query == nil || !c.Until.Equal(t0.Add(4*time.Second)) {
		t.Errorf("connected %v, winner %+v", c, c.Winner)
	}
	st := status(s)
	if st.State != StateConnected || st.Relay != e.a.Addr() || st.Traffic || st.TrafficTimeout != 4*time.Second ||
		!st.TrafficDeadline.Equal(t0.Add(4*time.Second)) || !st.Recheck.Equal(t0.Add(6*time.Hour)) ||
		!st.Expires.Equal(t0.Add(60*time.Second)) || !st.Restart.IsZero() || !st.Retry.IsZero() {
		t.Errorf("status %+v", st)
	}
	if p := e.clock.Pending(); !slices.Equal(p, []time.Time{t0.Add(4 * time.Second), t0.Add(6 * time.Hour)}) {
		t.Errorf("timers %v", p)
	}
	log.none(t, s)
}

// TestSessionNoTraffic (RFC 8777 §3.3.4.1): a relay that delivers no
// traffic within the timeout is held down with HoldDown.Add for 3
// minutes, and the next relay is connected, with a timeout drawn from
// [4 s, min(4·2^n, 120 s)] for the n-th consecutive restart. When every
// relay is held down the Session waits for the first hold-down to end
// (never trying one early: the MUST), then connects. Traffic ends the
// back-off.
func TestSessionNoTraffic(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	t0 := e.clock.Now()
	log.expect(t, EventDiscovering, EventConnected)

	e.clock.Advance(4 * time.Second)
	t1 := t0.Add(4 * time.Second)
	ev := log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if h := ev[0]; h.Relay != e.a.Addr() || h.Reason != ReasonNoTraffic || !h.Until.Equal(t1.Add(3*time.Minute)) {
		t.Errorf("hold-down %v", h)
	}
	if _, held, strict := heldStrict(e.r, e.a.Addr()); !held || !strict {
		t.Errorf("a held %v, strict %v; want a hold-down that never gives way", held, strict)
	}
	if d := ev[1]; d.Relay != e.a.Addr() || d.Reason != ReasonNoTraffic || ev[2].Reason != ReasonNoTraffic {
		t.Errorf("dropped %v, then %v", d, ev[2])
	}
	c := ev[3]
	if c.Relay != e.b.Addr() || c.From != e.a.Addr() || c.Reason != ReasonNoTraffic {
		t.Errorf("failover %v", c)
	}
	if d := c.Until.Sub(t1); d < 4*time.Second || d > 8*time.Second {
		t.Errorf("second relay's traffic timeout %v, want in [4 s, 8 s]", d)
	}
	aRequests := e.a.Requests()

	e.clock.AdvanceTo(c.Until)
	t2 := c.Until
	ev = log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.b.Addr() || ev[3].Relay != e.c.Addr() || ev[3].From != e.b.Addr() {
		t.Errorf("second failover %v, %v", ev[0], ev[3])
	}
	if d := ev[3].Until.Sub(t2); d < 4*time.Second || d > 16*time.Second {
		t.Errorf("third relay's traffic timeout %v, want in [4 s, 16 s]", d)
	}

	e.clock.AdvanceTo(ev[3].Until)
	ev = log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventFailed)
	f := ev[3]
	if ev[0].Relay != e.c.Addr() || !errors.Is(f.Err, ErrNoCandidates) || f.Relay.IsValid() || !f.Until.Equal(t1.Add(3*time.Minute)) {
		t.Errorf("every relay held down: %v, %v; want a retry when a's hold-down ends at %v", ev[0], f, t1.Add(3*time.Minute))
	}
	if st := status(s); st.State != StateWaiting || !st.Retry.Equal(f.Until) || st.Relay.IsValid() || st.Absences != 3 {
		t.Errorf("status %+v", st)
	}
	if e.a.Requests() != aRequests {
		t.Error("a Request went to a relay held down for absence of traffic")
	}

	e.clock.AdvanceTo(f.Until)
	t3 := f.Until
	ev = log.expect(t, EventDiscovering, EventConnected)
	c = ev[1]
	if ev[0].Reason != ReasonRetry || c.Relay != e.a.Addr() || c.From != e.c.Addr() {
		t.Errorf("after the hold-down: %v, %v", ev[0], c)
	}
	if d := c.Until.Sub(t3); d < 4*time.Second || d > 32*time.Second {
		t.Errorf("fourth traffic timeout %v, want in [4 s, 32 s]", d)
	}

	// Traffic: the back-off ends, and a gap of 4 s is an absence again.
	e.clock.Advance(time.Second)
	s.TrafficSeen(e.a.Addr())
	log.expect(t, EventTraffic)
	if st := status(s); st.State != StateReceiving || st.Absences != 0 || st.TrafficTimeout != 4*time.Second || !st.TrafficDeadline.Equal(t3.Add(5*time.Second)) {
		t.Errorf("status after traffic %+v", st)
	}
	log.none(t, s)
}

// TestSessionTrafficGap: traffic that flows keeps the relay; a gap of the
// traffic timeout after the last packet is an absence (RFC 8777 §3.3.2
// event 9).
func TestSessionTrafficGap(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	t0 := e.clock.Now()
	log.expect(t, EventDiscovering, EventConnected)
	for range 10 {
		e.clock.Advance(3 * time.Second)
		s.TrafficSeen(e.a.Addr())
	}
	log.expect(t, EventTraffic)
	log.none(t, s)
	last := t0.Add(30 * time.Second)
	if st := status(s); st.Relay != e.a.Addr() || !st.TrafficDeadline.Equal(last.Add(4*time.Second)) {
		t.Errorf("status %+v", st)
	}
	e.clock.Advance(4*time.Second - time.Millisecond)
	log.none(t, s)
	e.clock.Advance(time.Millisecond)
	ev := log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.a.Addr() || !ev[0].Time.Equal(last.Add(4*time.Second)) || ev[3].Relay != e.b.Addr() {
		t.Errorf("gap: %v, %v", ev[0], ev[3])
	}
	// One restart after traffic: the next timeout is drawn from [4 s, 8 s].
	if d := ev[3].Until.Sub(ev[3].Time); d < 4*time.Second || d > 8*time.Second {
		t.Errorf("timeout %v", d)
	}
}

// TestSessionTrafficAbsent: the caller's own detection acts once the
// relay has had its traffic timeout, and traffic after it cancels it.
func TestSessionTrafficAbsent(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	t0 := e.clock.Now()
	log.expect(t, EventDiscovering, EventConnected)

	// Declared 1 s after connecting, then traffic: nothing happens, and
	// the deadline follows the traffic.
	e.clock.Advance(time.Second)
	s.TrafficAbsent(e.a.Addr())
	log.none(t, s)
	if st := status(s); !st.TrafficDeadline.Equal(t0.Add(4 * time.Second)) {
		t.Errorf("deadline after TrafficAbsent %v", st.TrafficDeadline.Sub(t0))
	}
	e.clock.Advance(time.Second)
	s.TrafficSeen(e.a.Addr())
	log.expect(t, EventTraffic)
	e.clock.Advance(3 * time.Second) // t0+5 s: past the first deadline
	log.none(t, s)

	// Declared without traffic since: at once, the timeout having passed.
	s.TrafficAbsent(e.a.Addr())
	ev := log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.a.Addr() || !ev[0].Time.Equal(t0.Add(5*time.Second)) || ev[3].Relay != e.b.Addr() {
		t.Errorf("%v; %v", ev[0], ev[3])
	}

	// Declared before the new relay's timeout: acts at the timeout.
	c := ev[3]
	s.TrafficAbsent(e.b.Addr())
	log.none(t, s)
	e.clock.AdvanceTo(c.Until)
	ev = log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.b.Addr() || !ev[0].Time.Equal(c.Until) {
		t.Errorf("%v at %v, want at %v", ev[0], ev[0].Time, c.Until)
	}
}

// TestSessionLimit (RFC 8777 §3.3.5): the tunnel's Membership Query has
// the L flag; the Session holds the relay down for 10 minutes, keeps it
// while it races for another, and fails over.
func TestSessionLimit(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	s.TrafficSeen(e.a.Addr())
	log.expect(t, EventTraffic)

	e.a.Set(amttest.Behaviour{Limit: true})
	q := requestOn(t, log, e.a.Addr())
	if !q.Limit {
		t.Fatal("no L flag")
	}
	t1 := e.clock.Now()
	s.Limit(e.a.Addr())
	ev := log.expect(t, EventHeldDown, EventDiscovering, EventConnected, EventDropped)
	if h := ev[0]; h.Relay != e.a.Addr() || h.Reason != ReasonLimit || !h.Until.Equal(t1.Add(10*time.Minute)) {
		t.Errorf("hold-down %v", h)
	}
	if d := ev[1]; d.Relay != e.a.Addr() || d.Reason != ReasonLimit {
		t.Errorf("discovering %v: want a kept", d)
	}
	if c := ev[2]; c.Relay != e.b.Addr() || c.From != e.a.Addr() || c.Reason != ReasonLimit || c.String() != "failing over from 127.0.0.1:"+itoa(int(e.a.Addr().Port()))+" to 127.0.0.2:"+itoa(int(e.b.Addr().Port()))+": L flag set (RFC 8777 §3.3.5)" {
		t.Errorf("failover %v", c)
	}
	if d := ev[3]; d.Relay != e.a.Addr() || d.Reason != ReasonLimit {
		t.Errorf("dropped %v", d)
	}
	if _, held, strict := heldStrict(e.r, e.a.Addr()); !held || strict {
		t.Errorf("a held %v strict %v; want the Resolver's L hold-down", held, strict)
	}
	if st := status(s); st.Relay != e.b.Addr() || st.State != StateConnected {
		t.Errorf("status %+v", st)
	}
	// A late report about a is ignored.
	s.Limit(e.a.Addr())
	s.NoResponse(e.a.Addr())
	log.none(t, s)
	e.clock.Advance(10 * time.Minute)
	if _, held, _ := heldStrict(e.r, e.a.Addr()); held {
		t.Error("a still held after 10 minutes")
	}
}

// requestOn sends a Request on the tunnel to relay, as the gateway's next
// membership cycle does, and returns the Membership Query.
func requestOn(t *testing.T, log *eventLog, relay netip.AddrPort) amt.MembershipQuery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	q, err := amt.QueryConn(ctx, log.conn(relay), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestSessionLimitNoOtherRelay: with no other relay, the Session keeps
// the one that set L and races again after a back-off; once the relay
// answers without L, it stays.
func TestSessionLimitNoOtherRelay(t *testing.T) {
	e := newSessionEnv(t, "10 0 1 127.0.0.1")
	s := &Session{}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	e.a.Set(amttest.Behaviour{Limit: true})
	t1 := e.clock.Now()
	s.Limit(e.a.Addr())
	ev := log.expect(t, EventHeldDown, EventDiscovering, EventFailed)
	f := ev[2]
	if f.Relay != e.a.Addr() || !errors.Is(f.Err, ErrAllFailed) || !f.Until.Equal(t1.Add(time.Second)) {
		t.Errorf("failed %v", f)
	}
	if st := status(s); st.Relay != e.a.Addr() || !st.Retry.Equal(f.Until) {
		t.Errorf("status %+v", st)
	}
	// Another L meanwhile waits for the back-off.
	s.Limit(e.a.Addr())
	log.expect(t, EventHeldDown)
	log.none(t, s)

	e.clock.AdvanceTo(f.Until)
	ev = log.expect(t, EventDiscovering, EventFailed)
	if d := ev[1].Until.Sub(f.Until); d < time.Second || d > 2*time.Second {
		t.Errorf("second back-off %v", d)
	}
	e.a.Set(amttest.Behaviour{})
	e.clock.AdvanceTo(ev[1].Until)
	ev = log.expect(t, EventDiscovering, EventStayed)
	if ev[1].Relay != e.a.Addr() || ev[1].Reason != ReasonLimit {
		t.Errorf("stayed %v", ev[1])
	}
	if _, held, _ := heldStrict(e.r, e.a.Addr()); held {
		t.Error("a still held after it connected without L")
	}
	log.none(t, s)
}

// TestSessionNoResponse (RFC 8777 §3.3.2 event 4): the relay stops
// answering Requests; the Session drops it with a timeout penalty and
// connects the next.
func TestSessionNoResponse(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	e.a.Set(amttest.Behaviour{Drop: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := amt.QueryConn(ctx, log.conn(e.a.Addr()), false, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request to a silent relay: %v", err)
	}
	t1 := e.clock.Now()
	s.NoResponse(e.a.Addr())
	ev := log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if h := ev[0]; h.Relay != e.a.Addr() || h.Reason != ReasonNoResponse || !h.Until.Equal(t1.Add(30*time.Second)) {
		t.Errorf("hold-down %v", h)
	}
	if _, _, strict := heldStrict(e.r, e.a.Addr()); strict {
		t.Error("a timeout penalty that never gives way")
	}
	if c := ev[3]; c.Relay != e.b.Addr() || c.From != e.a.Addr() || c.Reason != ReasonNoResponse {
		t.Errorf("failover %v", c)
	}
}

// TestSessionLoss (RFC 8777 §3.3.4.2): loss schedules one restart at a
// random time within 10 s; the restart races while keeping the relay, and
// stays on it when it is still the one that answers.
func TestSessionLoss(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{TrafficTimeout: time.Hour}
	log := e.session(t, s)
	t0 := e.clock.Now()
	log.expect(t, EventDiscovering, EventConnected)
	s.Loss(e.a.Addr())
	sc := log.expect(t, EventScheduled)[0]
	if sc.Relay != e.a.Addr() || sc.Reason != ReasonLoss || sc.Until.Before(t0) || sc.Until.After(t0.Add(10*time.Second)) {
		t.Errorf("scheduled %v, want within 10 s", sc)
	}
	if st := status(s); !st.Restart.Equal(sc.Until) || !slices.Contains(e.clock.Pending(), sc.Until) {
		t.Errorf("status %+v, timers %v", st, e.clock.Pending())
	}
	s.Loss(e.a.Addr()) // one restart is enough
	log.none(t, s)
	e.clock.AdvanceTo(sc.Until)
	ev := log.expect(t, EventDiscovering, EventStayed)
	if ev[0].Relay != e.a.Addr() || ev[0].Reason != ReasonLoss || ev[1].Relay != e.a.Addr() {
		t.Errorf("%v; %v", ev[0], ev[1])
	}
	if _, held, _ := heldStrict(e.r, e.a.Addr()); held {
		t.Error("loss held the relay down")
	}
	if st := status(s); !st.Restart.IsZero() || st.Relay != e.a.Addr() {
		t.Errorf("status %+v", st)
	}
	log.none(t, s)
}

// TestSessionLossSpread: restart delays are spread over the whole span,
// 10 s by default, or as configured.
func TestSessionLossSpread(t *testing.T) {
	for _, span := range []time.Duration{0, 30 * time.Second} {
		s := &Session{LossSpread: span, Rand: rand.New(rand.NewPCG(3, 4))}
		want := span
		if want == 0 {
			want = 10 * time.Second
		}
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 200 {
			d := s.spread()
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < 0 || hi > want || hi-lo < want*8/10 {
			t.Errorf("span %v: delays in [%v, %v]", want, lo, hi)
		}
	}
}

// TestSessionTrafficTimeoutBackoff: the traffic timeout after n restarts
// for absence of traffic is in [initial, min(initial·2^n, max)] (RFC 8777
// §3.3.4.1), 4 s and 120 s by default.
func TestSessionTrafficTimeoutBackoff(t *testing.T) {
	for _, s := range []*Session{{}, {TrafficTimeout: time.Second, TrafficTimeoutMax: 10 * time.Second}} {
		s.Rand = rand.New(rand.NewPCG(5, 6))
		initial, maxd := orPositive(s.TrafficTimeout, 4*time.Second), orPositive(s.TrafficTimeoutMax, 120*time.Second)
		for n := range 10 {
			hi := min(initial<<n, maxd)
			lo, top := time.Duration(1<<62), time.Duration(0)
			for range 100 {
				d := s.trafficTimeout(n)
				lo, top = min(lo, d), max(top, d)
			}
			if lo < initial || top > hi || (n > 0 && top-lo < (hi-initial)/2) {
				t.Errorf("initial %v, n=%d: timeouts in [%v, %v], want within [%v, %v]", initial, n, lo, top, initial, hi)
			}
		}
	}
}

// TestSessionLongTerm (RFC 8777 §3.3.4.3): the long-term timer, when the
// records have not expired, is set again without a lookup; once they
// have, the source is looked up again and the Session stays on its relay,
// without a new handshake, while it is still the best; when the records
// name a better relay, it moves.
func TestSessionLongTerm(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{LongTerm: 45 * time.Second, TrafficTimeout: time.Hour}
	log := e.session(t, s)
	t0 := e.clock.Now()
	log.expect(t, EventDiscovering, EventConnected)
	queries, discoveries := e.dnsQueries(), e.a.Discoveries()

	e.clock.Advance(45 * time.Second) // the TTL, 60 s, has not expired
	sc := log.expect(t, EventScheduled)[0]
	if sc.Reason != ReasonLongTerm || sc.Relay != e.a.Addr() || !sc.Until.Equal(t0.Add(90*time.Second)) {
		t.Errorf("%v", sc)
	}
	log.none(t, s)
	if e.dnsQueries() != queries {
		t.Error("DNS queried while the records had not expired")
	}

	e.clock.Advance(45 * time.Second) // expired
	ev := log.expect(t, EventDiscovering, EventStayed)
	if ev[0].Reason != ReasonLongTerm || ev[0].Relay != e.a.Addr() || ev[1].Relay != e.a.Addr() {
		t.Errorf("%v; %v", ev[0], ev[1])
	}
	log.none(t, s)
	if e.dnsQueries() == queries || e.a.Discoveries() != discoveries {
		t.Errorf("%d DNS queries, %d Relay Discoveries: want a lookup and no handshake", e.dnsQueries()-queries, e.a.Discoveries()-discoveries)
	}
	t2 := t0.Add(90 * time.Second)
	if st := status(s); !st.Expires.Equal(t2.Add(60*time.Second)) || !st.Recheck.Equal(t2.Add(45*time.Second)) {
		t.Errorf("status %+v", st)
	}

	// A better relay is published: found at the next check after expiry.
	e.publish(t, "5 0 1 127.0.0.3", "10 0 1 127.0.0.1")
	e.clock.Advance(45 * time.Second)
	log.expect(t, EventScheduled)
	e.clock.Advance(45 * time.Second)
	ev = log.expect(t, EventDiscovering, EventConnected, EventDropped)
	if c := ev[1]; c.Relay != e.c.Addr() || c.From != e.a.Addr() || c.Reason != ReasonLongTerm || ev[2].Relay != e.a.Addr() {
		t.Errorf("%v; %v", c, ev[2])
	}
}

// TestSessionTTLExpiryAlone: records that expire start nothing by
// themselves (RFC 8777 §3.3.3).
func TestSessionTTLExpiryAlone(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{TrafficTimeout: time.Hour}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	queries := e.dnsQueries()
	e.clock.Advance(30 * time.Minute)
	log.none(t, s)
	if e.dnsQueries() != queries {
		t.Error("DNS queried at TTL expiry")
	}
}

// TestSessionRecordsChanged: a lookup; the Session stays unless a better
// relay appears; a type-0 record drops the relay (RFC 8777 §4.2.3).
func TestSessionRecordsChanged(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{TrafficTimeout: time.Hour}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	s.RecordsChanged()
	ev := log.expect(t, EventDiscovering, EventStayed)
	if ev[0].Reason != ReasonRecordsChanged || ev[1].Relay != e.a.Addr() {
		t.Errorf("%v; %v", ev[0], ev[1])
	}
	// Same precedence, another relay: no reason to move.
	e.publish(t, "10 0 1 127.0.0.2", "10 0 1 127.0.0.1")
	s.RecordsChanged()
	log.expect(t, EventDiscovering, EventStayed)
	e.publish(t, "5 0 1 127.0.0.2", "10 0 1 127.0.0.1")
	s.RecordsChanged()
	ev = log.expect(t, EventDiscovering, EventConnected, EventDropped)
	if ev[1].Relay != e.b.Addr() || ev[1].From != e.a.Addr() {
		t.Errorf("%v", ev[1])
	}
	e.publish(t, "0 0 0 .")
	s.RecordsChanged()
	ev = log.expect(t, EventDiscovering, EventDropped, EventDiscovering, EventFailed)
	if ev[1].Relay != e.b.Addr() || !errors.Is(ev[3].Err, ErrNoRelay) {
		t.Errorf("%v; %v", ev[1], ev[3])
	}
}

// TestSessionNetworkChanged (RFC 8777 §3.3.2 event 7): every relay is
// dropped and discovery starts again; the shared hold-down table is left
// alone.
func TestSessionNetworkChanged(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{TrafficTimeout: time.Hour}
	log := e.session(t, s)
	log.expect(t, EventDiscovering, EventConnected)
	e.r.Holds().Add(e.c.Addr(), time.Hour, "someone else's")
	s.NetworkChanged()
	ev := log.expect(t, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.a.Addr() || ev[0].Reason != ReasonNetworkChange || ev[2].Relay != e.a.Addr() || ev[2].From != e.a.Addr() {
		t.Errorf("%v; %v", ev[0], ev[2])
	}
	if ev[2].String() != "reconnected to "+e.a.Addr().String()+": network change (RFC 8777 §3.3.2, event 7)" {
		t.Errorf("%q", ev[2])
	}
	if _, held, _ := heldStrict(e.r, e.c.Addr()); !held {
		t.Error("NetworkChanged cleared the shared hold-down table")
	}
}

// TestSessionNetworkChangedMidRound: a round running when the network
// changes is abandoned; its outcome is never used.
func TestSessionNetworkChangedMidRound(t *testing.T) {
	e := newSessionEnv(t)
	e.srv.with(func() { e.srv.delay[qkey(rfcOwner, 260)] = 500 * time.Millisecond })
	s := &Session{TrafficTimeout: time.Hour}
	log := e.session(t, s)
	log.expect(t, EventDiscovering)
	s.NetworkChanged()
	ev := log.expect(t, EventDiscovering, EventConnected)
	if ev[0].Reason != ReasonNetworkChange || ev[1].Reason != ReasonNetworkChange {
		t.Errorf("%v; %v", ev[0], ev[1])
	}
	log.none(t, s)
}

// TestSessionRetryBackoff: rounds that fail are retried after [1 s,
// min(2^n s, 120 s)].
func TestSessionRetryBackoff(t *testing.T) {
	e := newSessionEnv(t, "10 0 1 127.0.0.1")
	closed := closedPorts(t, 1)[0]
	e.r.Port = closed.Port()
	s := &Session{}
	log := e.session(t, s)
	ev := log.expect(t, EventDiscovering, EventFailed)
	for n := range 9 {
		f := ev[1]
		if d, hi := f.Until.Sub(f.Time), min(time.Second<<n, 120*time.Second); d < time.Second || d > hi || !errors.Is(f.Err, ErrAllFailed) {
			t.Errorf("failure %d: retry after %v (%v), want in [1 s, %v]", n+1, d, f.Err, hi)
		}
		e.clock.AdvanceTo(f.Until)
		ev = log.expect(t, EventDiscovering, EventFailed)
		if ev[0].Reason != ReasonRetry {
			t.Errorf("%v", ev[0])
		}
	}
	// The relay appears: the next retry connects.
	r, err := amttest.Start(closed.String())
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	e.clock.AdvanceTo(ev[1].Until)
	ev = log.expect(t, EventDiscovering, EventConnected)
	if ev[1].Relay != r.Addr() {
		t.Errorf("%v", ev[1])
	}
	if st := status(s); !st.Retry.IsZero() || st.State != StateConnected {
		t.Errorf("status %+v", st)
	}
}

// TestSessionTwoRelays (RFC 8777 §3.1.3): two distinct relays at once,
// each with its own timers: one without traffic is replaced by a third,
// and the other is not disturbed.
func TestSessionTwoRelays(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{Relays: 2}
	log := e.session(t, s)
	t0 := e.clock.Now()
	ev := log.expect(t, EventDiscovering, EventConnected, EventConnected)
	got := []netip.AddrPort{ev[1].Relay, ev[2].Relay}
	slices.SortFunc(got, netip.AddrPort.Compare)
	if !slices.Equal(got, []netip.AddrPort{e.a.Addr(), e.b.Addr()}) {
		t.Fatalf("relays %v", got)
	}
	s.TrafficSeen(e.a.Addr())
	log.expect(t, EventTraffic)
	e.clock.Advance(2 * time.Second)
	s.TrafficSeen(e.a.Addr())
	e.clock.Advance(2 * time.Second)
	ev = log.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	if ev[0].Relay != e.b.Addr() || ev[3].Relay != e.c.Addr() || ev[3].From != e.b.Addr() {
		t.Errorf("%v; %v", ev[0], ev[3])
	}
	log.none(t, s)
	st := s.Status()
	i := slices.IndexFunc(st, func(x Tunnel) bool { return x.Relay == e.a.Addr() })
	if i < 0 || !st[i].Since.Equal(t0) || st[i].State != StateReceiving || !st[i].TrafficDeadline.Equal(t0.Add(6*time.Second)) {
		t.Errorf("a's tunnel %+v", st)
	}
}

// TestSessionsIndependent (RFC 8777 §3.3.7): two Sessions on one
// Resolver. One's events never touch the other's relay or timers; the
// only link is the shared hold-down table, which the other's later
// rounds respect.
func TestSessionsIndependent(t *testing.T) {
	e := newSessionEnv(t)
	s1 := &Session{}
	s2 := &Session{LossSpread: time.Second}
	log1 := e.session(t, s1)
	log2 := e.session(t, s2)
	log1.expect(t, EventDiscovering, EventConnected)
	log2.expect(t, EventDiscovering, EventConnected)
	s1.TrafficSeen(e.a.Addr())
	s2.TrafficSeen(e.a.Addr())
	log1.expect(t, EventTraffic)
	log2.expect(t, EventTraffic)
	before := s2.Status()

	s1.Limit(e.a.Addr())
	ev := log1.expect(t, EventHeldDown, EventDiscovering, EventConnected, EventDropped)
	if ev[2].Relay != e.b.Addr() {
		t.Fatalf("s1 %v", ev[2])
	}
	s1.TrafficSeen(e.b.Addr())
	log1.expect(t, EventTraffic)
	log2.none(t, s2)
	if after := s2.Status(); !slices.Equal(after, before) {
		t.Errorf("s2 changed: %+v, was %+v", after, before)
	}

	// s1's traffic does not feed s2's timer: s2 alone sees an absence.
	e.clock.Advance(3 * time.Second)
	s1.TrafficSeen(e.b.Addr())
	s1.TrafficSeen(e.a.Addr()) // not s1's relay any more: ignored
	e.clock.Advance(time.Second)
	ev = log2.expect(t, EventHeldDown, EventDropped, EventDiscovering, EventConnected)
	// s2's round avoids a, held down by s1's L flag, and b joins.
	if ev[0].Relay != e.a.Addr() || ev[3].Relay != e.b.Addr() {
		t.Errorf("s2: %v; %v", ev[0], ev[3])
	}
	log1.none(t, s1)
	if st := status(s1); st.Relay != e.b.Addr() || st.State != StateReceiving {
		t.Errorf("s1 %+v", st)
	}
}

// TestSessionStop: Run returns ctx's error, reports the relay dropped and
// closes Events; a Session runs once; reports after the end do nothing.
func TestSessionStop(t *testing.T) {
	e := newSessionEnv(t)
	s := &Session{Resolver: e.r, Source: rfcSource, Clock: e.clock}
	log := watchEvents(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	log.expect(t, EventDiscovering, EventConnected)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	ev := log.expect(t, EventDropped)
	if ev[0].Relay != e.a.Addr() || ev[0].Reason != ReasonStopped {
		t.Errorf("%v", ev[0])
	}
	log.waitClosed(t)
	if err := s.Run(context.Background()); !errors.Is(err, ErrSessionStarted) {
		t.Errorf("second Run: %v", err)
	}
	s.Limit(netip.AddrPort{})
	s.NetworkChanged()
	s.TrafficSeen(e.a.Addr())
	if st := status(s); st.State != StateStopped || st.Relay.IsValid() || len(e.clock.Pending()) != 0 {
		t.Errorf("status %+v, timers %v", st, e.clock.Pending())
	}
}

// TestSessionZeroValue: the defaults, and a Session that has not run.
func TestSessionZeroValue(t *testing.T) {
	var s Session
	if st := s.Status(); len(st) != 1 || st[0].State != StateIdle {
		t.Errorf("status %+v", st)
	}
	s.TrafficSeen(netip.AddrPort{})
	s.Loss(netip.AddrPort{})
	s.RecordsChanged()
	if s.absenceHoldDown() != 3*time.Minute || s.limitHoldDown() != 10*time.Minute || s.longTerm() != 6*time.Hour || s.trafficTimeout(0) != 4*time.Second {
		t.Error("defaults")
	}
}

func TestEventString(t *testing.T) {
	a, b := netip.MustParseAddrPort("192.0.2.1:2268"), netip.MustParseAddrPort("192.0.2.2:2268")
	at := time.Date(2026, 1, 1, 12, 3, 4, 0, time.UTC)
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: EventDiscovering, Reason: ReasonStart}, "discovering relays: new subscription (RFC 8777 §3.3.2, events 2 and 6)"},
		{Event{Kind: EventDiscovering, Relay: a, Reason: ReasonLoss}, "looking for a relay to replace 192.0.2.1:2268, kept meanwhile: loss or congestion (RFC 8777 §3.3.4.2)"},
		{Event{Kind: EventConnected, Relay: a, Reason: ReasonStart}, "connected to 192.0.2.1:2268: new subscription (RFC 8777 §3.3.2, events 2 and 6)"},
		{Event{Kind: EventConnected, Relay: b, From: a, Reason: ReasonNoTraffic}, "failing over from 192.0.2.1:2268 to 192.0.2.2:2268: no traffic (RFC 8777 §3.3.4.1)"},
		{Event{Kind: EventStayed, Relay: a, Reason: ReasonLongTerm}, "staying on 192.0.2.1:2268: long-term timer (RFC 8777 §3.3.4.3)"},
		{Event{Kind: EventTraffic, Relay: a}, "traffic from 192.0.2.1:2268"},
		{Event{Kind: EventHeldDown, Relay: a, Until: at, Reason: ReasonLimit}, "holding down 192.0.2.1:2268 until 12:03:04: L flag set (RFC 8777 §3.3.5)"},
		{Event{Kind: EventScheduled, Relay: a, Until: at, Reason: ReasonLoss}, "restart from 192.0.2.1:2268 scheduled at 12:03:04: loss or congestion (RFC 8777 §3.3.4.2)"},
		{Event{Kind: EventScheduled, Relay: a, Until: at, Reason: ReasonLongTerm}, "records of 192.0.2.1:2268 not expired: next long-term check at 12:03:04"},
		{Event{Kind: EventDropped, Relay: a, Reason: ReasonNoResponse}, "dropped 192.0.2.1:2268: no response to a Request (RFC 8777 §3.3.2, event 4)"},
		{Event{Kind: EventFailed, Err: ErrAllFailed, Until: at}, "no relay: gatewayresolver: no relay answered; retrying at 12:03:04"},
		{Event{Kind: EventFailed, Relay: a, Err: ErrAllFailed}, "no relay to replace 192.0.2.1:2268, kept: gatewayresolver: no relay answered"},
	} {
		if got := c.ev.String(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}
