package gatewayresolver

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

var testGroup = netip.MustParseAddr("232.1.1.1")

// TestJoin: Dial, then Join through the winner: the race's Membership
// Query saves a Request, data of the channel arrives with S, G and ports,
// and Close leaves.
func TestJoin(t *testing.T) {
	e := newSessionEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	race, err := e.r.Dial(ctx, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	w := race.Winners[0]
	if w.Relay != e.a.Addr() {
		t.Fatalf("connected to %v, want a", w.Relay)
	}
	sub, err := Join(ctx, &w, rfcSource, testGroup, JoinConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ch := amt.Channel{Source: rfcSource, Group: testGroup}
	testenv.Eventually(t, "relay a has the member", func() bool { return len(e.a.Members(ch)) == 1 })
	if e.a.Requests() != 1 {
		t.Errorf("%d Requests: Join did not use the race's Query", e.a.Requests())
	}
	e.a.Send(ch, 4000, 5001, []byte("data"))
	d, err := sub.Read(ctx, make([]byte, 100))
	if err != nil || d.Source != rfcSource || d.Group != testGroup || d.SourcePort != 4000 || d.DestPort != 5001 || string(d.Payload) != "data" {
		t.Fatalf("Read: %+v, %v", d, err)
	}
	if sub.Relay() != e.a.Addr() || sub.Channel() != ch {
		t.Errorf("relay %v channel %v", sub.Relay(), sub.Channel())
	}
	sub.Close()
	testenv.Eventually(t, "relay a has no member after Close", func() bool { return len(e.a.Channels()) == 0 })
}

// TestJoinFeedsSession: a Subscription on a Session's relay reports its
// traffic (EventTraffic, StateReceiving), refreshes on the Session's
// clock at the relay's Query Interval, and when the refresh's Query has
// the L flag, the Session holds the relay down and fails over (RFC 8777
// §3.3.5).
func TestJoinFeedsSession(t *testing.T) {
	e := newSessionEnv(t)
	e.a.Set(amttest.Behaviour{QQIC: 2})
	s := &Session{}
	log := e.session(t, s)
	evs := log.expect(t, EventDiscovering, EventConnected)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sub, err := Join(ctx, evs[1].Winner, rfcSource, testGroup, JoinConfig{Session: s})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch := amt.Channel{Source: rfcSource, Group: testGroup}
	testenv.Eventually(t, "relay a has the member", func() bool { return len(e.a.Members(ch)) == 1 })
	joined := e.clock.Now()
	if !containsTime(e.clock.Pending(), joined.Add(2*time.Second)) {
		t.Fatalf("timers %v: no refresh at the relay's 2 s Query Interval", e.clock.Pending())
	}
	e.a.Send(ch, 4000, 5001, []byte("x"))
	if _, err := sub.Read(ctx, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	log.expect(t, EventTraffic)
	if st := status(s); st.State != StateReceiving {
		t.Fatalf("state %v", st.State)
	}
	e.a.Set(amttest.Behaviour{QQIC: 2, Limit: true})
	e.clock.Advance(2 * time.Second)
	evs = log.expect(t, EventHeldDown, EventDiscovering, EventConnected, EventDropped)
	if evs[0].Reason != ReasonLimit || evs[2].Relay != e.b.Addr() || evs[2].From != e.a.Addr() || evs[3].Relay != e.a.Addr() {
		t.Errorf("events:\n%s", log.dump())
	}
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

// BenchmarkJoinRead is the receive path through a Subscription: one
// packet per op, from the relay's socket to Read, with allocations per
// packet (ReportAllocs) and packets per second.
func BenchmarkJoinRead(b *testing.B) {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer relay.Close()
	r := &Resolver{Tiers: []Tier{TierDRIAD}}
	race, err := r.Connect(context.Background(), []Candidate{{Addr: relay.Addr(), Tier: TierDRIAD, Usable: true}})
	if err != nil {
		b.Fatal(err)
	}
	w := race.Winners[0]
	ctx := context.Background()
	sub, err := Join(ctx, &w, rfcSource, testGroup, JoinConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	ch := amt.Channel{Source: rfcSource, Group: testGroup}
	for len(relay.Members(ch)) == 0 {
		time.Sleep(time.Millisecond)
	}
	gw := relay.Members(ch)[0]
	msg, _ := amt.Data{Source: rfcSource, Group: testGroup, SourcePort: 4000, DestPort: 5001, Payload: make([]byte, 1316)}.Append(nil)
	// The sender keeps at most 32 packets in flight, so none is dropped.
	var read atomic.Int64
	stop := make(chan struct{})
	go func() {
		for sent := int64(0); ; sent++ {
			for sent-read.Load() >= 32 {
				select {
				case <-stop:
					return
				default:
					time.Sleep(time.Microsecond)
				}
			}
			relay.WriteTo(msg, gw)
		}
	}()
	defer close(stop)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.SetBytes(1316)
	start := time.Now()
	for b.Loop() {
		if _, err := sub.Read(ctx, buf); err != nil {
			b.Fatal(err)
		}
		read.Add(1)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "packets/s")
}

// TestJoinAfterDeadline: the race leaves a read deadline on the winner's
// socket; data that comes after it still arrives.
func TestJoinAfterDeadline(t *testing.T) {
	e := newSessionEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	race, err := e.r.Dial(ctx, rfcSource)
	if err != nil {
		t.Fatal(err)
	}
	w := race.Winners[0]
	w.Conn.SetReadDeadline(time.Now().Add(-time.Second))
	sub, err := Join(ctx, &w, rfcSource, testGroup, JoinConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch := amt.Channel{Source: rfcSource, Group: testGroup}
	testenv.Eventually(t, "relay a has the member", func() bool { return len(e.a.Members(ch)) == 1 })
	e.a.Send(ch, 4000, 5001, []byte("late"))
	if d, err := sub.Read(ctx, make([]byte, 100)); err != nil || string(d.Payload) != "late" {
		t.Fatalf("Read: %+v, %v", d, err)
	}
}
