package amt_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"

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
