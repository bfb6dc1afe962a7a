package amt_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// TestGatewayJoinWithQuery: a Query already received (a race's winner's)
// lets Join send an ALLOW report at once, with no Request; the report is
// sent again [Robustness Variable]-1 = 1 more time (RFC 3376 §5.1).
func TestGatewayJoinWithQuery(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	conn, err := net.Dial("udp", relay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	q, err := amt.QueryConn(ctx, conn, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := amttest.NewManualClock()
	gw := &amt.Gateway{Conn: conn, Query: &q, Clock: clock}
	defer gw.Close()
	if err := gw.Join(ctx, src, group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay has the member", func() bool { return len(relay.Members(ch)) == 1 })
	if st := gw.Stats(); st.Requests != 0 || st.Updates != 1 {
		t.Errorf("stats %+v", st)
	}
	clock.Advance(time.Second) // the retransmission falls within (0, 1 s]
	testenv.Eventually(t, "the relay has the report twice", func() bool { return relay.Updates() == 2 })
	if st := gw.Stats(); st.Updates != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestGatewayLeave: Leave sends BLOCK for one channel, and Close a leave
// report for the rest; the relay removes the gateway each time.
func TestGatewayLeave(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, nil)
	other := amt.Channel{Source: netip.MustParseAddr("198.51.100.13"), Group: group}
	third := amt.Channel{Source: src, Group: netip.MustParseAddr("232.1.1.2")}
	for _, c := range []amt.Channel{ch, other, third} {
		e.join(t, c)
	}
	if err := e.gw.Leave(other.Source, other.Group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay drops the gateway from "+other.String(), func() bool { return len(e.relay.Members(other)) == 0 })
	if len(e.relay.Members(ch)) != 1 || !slices.Equal(e.gw.Channels(), []amt.Channel{ch, third}) {
		t.Fatalf("members of %v %v, channels %v", ch, e.relay.Members(ch), e.gw.Channels())
	}
	before := e.relay.Updates()
	if err := e.gw.Close(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay has no members left", func() bool { return len(e.relay.Channels()) == 0 })
	// The leave report goes [Robustness Variable] = 2 times.
	testenv.Eventually(t, "both leave reports arrive", func() bool { return e.relay.Updates() == before+2 })
	if _, err := e.gw.Read(context.Background(), make([]byte, 10)); !errors.Is(err, amt.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := e.gw.Join(context.Background(), src, group); !errors.Is(err, amt.ErrClosed) {
		t.Errorf("Join after Close: %v", err)
	}
}

// TestGatewayLimit: a relay with the L flag takes no new gateway: Join
// fails with ErrLimit and the relay has no member.
func TestGatewayLimit(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{Limit: true}, nil)
	if err := e.gw.Join(context.Background(), src, group); !errors.Is(err, amt.ErrLimit) {
		t.Fatalf("Join: %v", err)
	}
	if e.relay.Updates() != 0 || len(e.gw.Channels()) != 0 {
		t.Errorf("relay took %d updates; channels %v", e.relay.Updates(), e.gw.Channels())
	}
}

// TestGatewayLimitAfterLeave: while the relay sets the L flag, a gateway
// that still reports subscriptions may join more channels (RFC 7450
// §5.2.3.5.4), but once it has left them all, a Join would make a new
// tunnel endpoint, which the relay ignores: ErrLimit.
func TestGatewayLimitAfterLeave(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, nil)
	e.join(t, ch)
	e.relay.Set(amttest.Behaviour{QQIC: 10, Limit: true})
	e.clock.Advance(10 * time.Second)
	testenv.Eventually(t, "the refresh's Query, with the L flag, is accepted", func() bool { return e.gw.Stats().Queries == 2 })
	other := amt.Channel{Source: netip.MustParseAddr("198.51.100.13"), Group: group}
	e.join(t, other)
	for _, c := range []amt.Channel{ch, other} {
		if err := e.gw.Leave(c.Source, c.Group); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, "the relay has no members left", func() bool { return len(e.relay.Channels()) == 0 })
	if err := e.gw.Join(context.Background(), src, group); !errors.Is(err, amt.ErrLimit) {
		t.Errorf("Join after leaving everything, under the L flag: %v, want ErrLimit", err)
	}
	if len(e.gw.Channels()) != 0 {
		t.Errorf("channels %v", e.gw.Channels())
	}
}

// TestGatewayLeaveDuringRefresh: leaving the last channel while a
// refresh's Request awaits its Query ends the Request's retransmissions:
// with no subscription there is nothing to refresh (RFC 7450 §5.2.3.5.1).
func TestGatewayLeaveDuringRefresh(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, nil)
	e.join(t, ch)
	e.relay.Set(amttest.Behaviour{QQIC: 10, Drop: true})
	e.clock.Advance(10 * time.Second)
	if st := e.gw.Stats(); st.Requests != 2 {
		t.Fatalf("stats %+v, want the refresh's Request", st)
	}
	if err := e.gw.Leave(src, group); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the relay drops the gateway", func() bool { return len(e.relay.Members(ch)) == 0 })
	e.clock.Advance(10 * time.Minute)
	if st := e.gw.Stats(); st.Requests != 2 || len(e.clock.Pending()) != 0 {
		t.Errorf("stats %+v, timers %v: Requests go on with no channel joined", st, e.clock.Pending())
	}
}
