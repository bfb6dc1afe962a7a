package amt_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

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

// TestGatewayOverflowRecovers: once Read has freed a buffer, the next
// data packet is delivered, even though the read loop was already
// waiting for it with every buffer taken.
func TestGatewayOverflowRecovers(t *testing.T) {
	e := newGatewayEnv(t, amttest.Behaviour{}, func(g *amt.Gateway) { g.Buffers = 1 })
	e.join(t, ch)
	for i := range 2 {
		e.relay.Send(ch, 1, 2, []byte{byte(i)})
	}
	testenv.Eventually(t, "one packet queued, one dropped", func() bool { st := e.gw.Stats(); return st.Data == 1 && st.Overflow == 1 })
	if d := e.read(t); d.Payload[0] != 0 {
		t.Fatalf("read %v", d.Payload)
	}
	e.relay.Send(ch, 1, 2, []byte{2})
	if d := e.read(t); d.Payload[0] != 2 {
		t.Fatalf("read %v", d.Payload)
	}
	if st := e.gw.Stats(); st.Data != 2 || st.Overflow != 1 {
		t.Errorf("stats %+v", st)
	}
}
