package amt_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// TestGatewayRefresh: the query timer is the QQIC's Query Interval; when it
// fires, a Request goes out with a fresh nonce and the Query's answer is a
// current-state report that the relay accepts; nothing is sent before.
func TestGatewayRefresh(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, nil)
	start := e.clock.Now()
	e.join(t, ch)
	if p := e.clock.Pending(); !slices.Contains(p, start.Add(10*time.Second)) {
		t.Fatalf("timers at %v, want the query timer at +10s", p)
	}
	e.clock.Advance(10*time.Second - time.Millisecond)
	if st := e.gw.Stats(); st.Requests != 1 {
		t.Fatalf("a Request before the query timer: %+v", st)
	}
	last := start
	for i := 2; i <= 4; i++ {
		// The only timer is the query timer, 10 s after the last Query
		// (the manual clock stands still while the exchange runs).
		p := e.clock.Pending()
		if len(p) != 1 || !p[0].Equal(last.Add(10*time.Second)) {
			t.Fatalf("refresh %d: timers %v, want one at %v", i, p, last.Add(10*time.Second))
		}
		last = p[0]
		e.clock.AdvanceTo(p[0])
		testenv.Eventually(t, fmt.Sprintf("refresh %d accepted", i), func() bool {
			st := e.gw.Stats()
			return st.Requests == uint64(i) && st.Queries == uint64(i) && e.relay.Updates() == int64(i)
		})
	}
	if e.relay.Rejected() != 0 || len(e.relay.Members(ch)) != 1 {
		t.Errorf("rejected %d, members %v", e.relay.Rejected(), e.relay.Members(ch))
	}
}

// TestGatewayRefreshMax: RefreshMax shortens the query timer, for NATs.
func TestGatewayRefreshMax(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, func(g *amt.Gateway) { g.RefreshMax = 25 * time.Second })
	start := e.clock.Now()
	e.join(t, ch)
	if p := e.clock.Pending(); !slices.Contains(p, start.Add(25*time.Second)) {
		t.Fatalf("timers at %v, want +25s, not the relay's 125 s", p)
	}
}

// TestGatewayDataDuringQuery: while a refresh's Request waits for its
// Query (the relay drops the first answers), data goes on arriving on the
// same socket and every packet is delivered; then the Query is accepted.
func TestGatewayDataDuringQuery(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, nil)
	e.join(t, ch)
	e.relay.Set(amttest.Behaviour{QQIC: 10, Drop: true})
	e.clock.Advance(10 * time.Second)
	testenv.Eventually(t, "the refresh Request reaches the relay", func() bool { return e.relay.Requests() == 2 })
	const n = 20
	for i := range n {
		if _, err := e.relay.Send(ch, 4000, 5001, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if d := e.read(t); d.Payload[0] != byte(i) {
			t.Fatalf("packet %d has payload %d", i, d.Payload[0])
		}
	}
	if st := e.gw.Stats(); st.Queries != 1 || st.Overflow != 0 {
		t.Fatalf("stats %+v", st)
	}
	e.relay.Set(amttest.Behaviour{QQIC: 10})
	e.clock.AdvanceTo(e.clock.Pending()[0]) // the first retransmission
	testenv.Eventually(t, "the retransmitted Request is answered", func() bool { return e.gw.Stats().Queries == 2 })
	if e.relay.Requests() != 3 {
		t.Errorf("%d Requests, want 3", e.relay.Requests())
	}
}

// TestGatewayNoResponse: a relay that stops answering Requests is reported
// once 4 transmissions have gone unanswered, the 4th for its whole
// timeout too (RFC 8777 §3.3.2 event 4), while Join waits; Join ends with
// its ctx.
func TestGatewayNoResponse(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{Drop: true}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.gw.Join(ctx, src, group) }()
	for i := 1; i <= 4; i++ {
		testenv.Eventually(t, fmt.Sprintf("Request %d", i), func() bool { return e.relay.Requests() == int64(i) })
		if slices.Contains(e.kinds(), amt.GatewayNoResponse) {
			t.Fatalf("no response reported after %d Requests, before the last one's timeout", i)
		}
		e.clock.AdvanceTo(e.clock.Pending()[0]) // the next retransmission
	}
	testenv.Eventually(t, "no response reported", func() bool { return slices.Contains(e.kinds(), amt.GatewayNoResponse) })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Join: %v", err)
	}
	if len(e.gw.Channels()) != 0 {
		t.Errorf("channels %v after a failed Join", e.gw.Channels())
	}
}

// TestGatewayJoinDuringRefresh: while a refresh's Request is being
// retransmitted (its Queries lost), a Join's report uses the last
// Query's nonce and MAC (RFC 7450 §5.2.3.6.2), and the relay still
// accepts them.
func TestGatewayJoinDuringRefresh(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, nil)
	e.join(t, ch)
	e.relay.Set(amttest.Behaviour{QQIC: 10, Drop: true})
	e.clock.Advance(10 * time.Second)
	for i := 3; i <= 4; i++ {
		e.clock.AdvanceTo(e.clock.Pending()[0]) // a retransmission
	}
	testenv.Eventually(t, "the relay answered 4 Requests", func() bool { return e.relay.Requests() == 4 })
	other := amt.Channel{Source: netip.MustParseAddr("198.51.100.13"), Group: group}
	before := e.relay.Updates() + e.relay.Rejected()
	if err := e.gw.Join(context.Background(), other.Source, other.Group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay has the report", func() bool { return e.relay.Updates()+e.relay.Rejected() > before })
	if e.relay.Rejected() != 0 || !slices.Contains(e.relay.Members(other), e.local) {
		t.Errorf("rejected %d, members %v", e.relay.Rejected(), e.relay.Members(other))
	}
}
