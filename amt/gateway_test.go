package amt_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// Gateway tests run a real amttest relay on loopback and the Gateway's
// timers on a ManualClock: refresh and retransmission are driven by the
// test, never by the wall clock.

var (
	src   = netip.MustParseAddr("198.51.100.12") // S: only ever inside packets
	group = netip.MustParseAddr("232.1.1.1")
	ch    = amt.Channel{Source: src, Group: group}
)

// gatewayEnv is a relay and a Gateway connected to it.
type gatewayEnv struct {
	relay *amttest.Relay
	clock *amttest.ManualClock
	gw    *amt.Gateway
	local netip.AddrPort // the gateway's tunnel endpoint

	mu     sync.Mutex
	events []amt.GatewayEvent
}

func newGatewayEnv(t *testing.T, b amttest.Behaviour, cfg func(*amt.Gateway)) *gatewayEnv {
	t.Helper()
	relay := startRelay(t, "127.0.0.1:0")
	relay.Set(b)
	conn, err := net.Dial("udp", relay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	e := &gatewayEnv{relay: relay, clock: amttest.NewManualClock()}
	e.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	e.gw = &amt.Gateway{Conn: conn, Clock: e.clock, Notify: func(ev amt.GatewayEvent) {
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
	}}
	if cfg != nil {
		cfg(e.gw)
	}
	t.Cleanup(func() { e.gw.Close() })
	return e
}

func (e *gatewayEnv) kinds() []amt.GatewayEventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []amt.GatewayEventKind
	for _, ev := range e.events {
		out = append(out, ev.Kind)
	}
	return out
}

func (e *gatewayEnv) join(t *testing.T, c amt.Channel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	if err := e.gw.Join(ctx, c.Source, c.Group); err != nil {
		t.Fatalf("Join %v: %v", c, err)
	}
	testenv.Eventually(t, "the relay has the gateway as a member of "+c.String(), func() bool {
		return slices.Contains(e.relay.Members(c), e.local)
	})
}

func (e *gatewayEnv) read(t *testing.T) amt.Data {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	buf := make([]byte, 2048)
	d, err := e.gw.Read(ctx, buf)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return d
}

func TestGatewayJoinReceive(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, nil)
	e.join(t, ch)
	if n, err := e.relay.Send(ch, 4000, 5001, []byte("hello")); n != 1 || err != nil {
		t.Fatalf("Send: %d, %v", n, err)
	}
	d := e.read(t)
	if d.Source != src || d.Group != group || d.SourcePort != 4000 || d.DestPort != 5001 || string(d.Payload) != "hello" {
		t.Errorf("got %+v", d)
	}
	st := e.gw.Stats()
	// One Request (no Query yet), one Query, one Update (the
	// current-state report answering it, with the channel).
	if st.Requests != 1 || st.Queries != 1 || st.Updates != 1 || st.Data != 1 || e.relay.Updates() != 1 || e.relay.Rejected() != 0 {
		t.Errorf("stats %+v, relay updates %d rejected %d", st, e.relay.Updates(), e.relay.Rejected())
	}
	if k := e.kinds(); !slices.Equal(k, []amt.GatewayEventKind{amt.GatewayQuery}) {
		t.Errorf("events %v", k)
	}
}

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

// TestGatewayIgnores: garbled and forged messages from the relay's own
// address are ignored and counted, and the good packet after them is the
// one delivered.
func TestGatewayIgnores(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, nil)
	e.join(t, ch)
	good, _ := amt.Data{Source: src, Group: group, SourcePort: 1, DestPort: 2, Payload: []byte("good")}.Append(nil)
	badSum := slices.Clone(good)
	badSum[len(badSum)-1] ^= 0xff // the payload no longer matches the UDP checksum
	otherChannel, _ := amt.Data{Source: netip.MustParseAddr("198.51.100.99"), Group: group, SourcePort: 1, DestPort: 2, Payload: []byte("x")}.Append(nil)
	v1 := slices.Clone(good)
	v1[0] |= 0x10 // version 1
	unsolicited := amt.MembershipQuery{Nonce: 7, GeneralQuery: amt.GeneralQuery(false, 125)}.Append(nil)
	for _, m := range [][]byte{badSum, otherChannel, v1, unsolicited, {0x06}, {0xff, 0xff, 0xff}, good} {
		if err := e.relay.WriteTo(m, e.local); err != nil {
			t.Fatal(err)
		}
	}
	if d := e.read(t); string(d.Payload) != "good" {
		t.Fatalf("read %q", d.Payload)
	}
	testenv.Eventually(t, "six datagrams ignored", func() bool { return e.gw.Stats().Ignored == 6 })
	if st := e.gw.Stats(); st.Data != 1 || st.Queries != 1 {
		t.Errorf("stats %+v", st)
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

// TestGatewayNoResponse: a relay that stops answering Requests is reported
// after 4 transmissions, while Join waits; Join ends with its ctx.
func TestGatewayNoResponse(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{Drop: true}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.gw.Join(ctx, src, group) }()
	for i := 1; i <= 4; i++ {
		testenv.Eventually(t, fmt.Sprintf("Request %d", i), func() bool { return e.relay.Requests() == int64(i) })
		if i < 4 && slices.Contains(e.kinds(), amt.GatewayNoResponse) {
			t.Fatalf("no response reported after %d Requests", i)
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

// TestGatewayOverflow: with every buffer taken, further data is dropped
// and counted, and a refresh still completes.
func TestGatewayOverflow(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{QQIC: 10}, func(g *amt.Gateway) { g.Buffers = 2 })
	e.join(t, ch)
	for i := range 5 {
		e.relay.Send(ch, 1, 2, []byte{byte(i)})
	}
	testenv.Eventually(t, "five packets counted", func() bool { st := e.gw.Stats(); return st.Data+st.Overflow == 5 })
	e.clock.Advance(10 * time.Second)
	testenv.Eventually(t, "the refresh completes", func() bool { return e.gw.Stats().Queries == 2 })
	if st := e.gw.Stats(); st.Data != 2 || st.Overflow != 3 {
		t.Errorf("stats %+v", st)
	}
	for i := range 2 {
		if d := e.read(t); d.Payload[0] != byte(i) {
			t.Errorf("packet %d: %v", i, d.Payload)
		}
	}
}

func TestGatewayChannelChecks(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, nil)
	for _, c := range []amt.Channel{
		{Source: src, Group: netip.MustParseAddr("10.0.0.1")},
		{Source: group, Group: group},
		{Source: netip.MustParseAddr("2001:db8::1"), Group: netip.MustParseAddr("ff3e::1")},
		{Source: netip.IPv4Unspecified(), Group: group},
	} {
		if err := e.gw.Join(context.Background(), c.Source, c.Group); !errors.Is(err, amt.ErrChannel) {
			t.Errorf("Join %v: %v", c, err)
		}
	}
	if e.relay.Requests() != 0 {
		t.Errorf("%d Requests for bad channels", e.relay.Requests())
	}
}

func TestQueryInterval(t *testing.T) {
	for _, tc := range []struct {
		qqic uint8
		want time.Duration
	}{
		{0, 125 * time.Second}, // RFC 3376 §8.2 default
		{1, time.Second},
		{125, 125 * time.Second},
		{127, 127 * time.Second},
		{0x80, 128 * time.Second},                 // (0|0x10) << 3
		{0x8f, 248 * time.Second},                 // (15|0x10) << 3
		{0x91, (17 << 4) * time.Second},           // exp 1
		{0xff, ((15 | 0x10) << 10) * time.Second}, // the largest: 31744 s
	} {
		for _, mld := range []bool{false, true} {
			q := amt.MembershipQuery{GeneralQuery: amt.GeneralQuery(mld, tc.qqic)}
			if got := q.QueryInterval(); got != tc.want {
				t.Errorf("QQIC %#x (mld %v): %v, want %v", tc.qqic, mld, got, tc.want)
			}
			if q.Robustness() != 2 {
				t.Errorf("QRV %d", q.Robustness())
			}
		}
	}
	if (amt.MembershipQuery{}).QueryInterval() != 125*time.Second {
		t.Error("no query: not the default")
	}
}
