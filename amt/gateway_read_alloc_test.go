package amt

import (
	"context"
	"net"
	"net/netip"
	"testing"
)

// TestGatewayReceiveNoAlloc: a data packet of a joined channel is
// checked, queued and read without allocating.
func TestGatewayReceiveNoAlloc(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	conn, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{Conn: conn, Buffers: 4}
	defer g.Close()
	if err := g.init(); err != nil {
		t.Fatal(err)
	}
	ch := Channel{netip.MustParseAddr("198.51.100.12"), netip.MustParseAddr("232.1.1.1")}
	g.mu.Lock()
	g.setChannels([]Channel{ch})
	g.mu.Unlock()
	msg, err := Data{Source: ch.Source, Group: ch.Group, SourcePort: 1, DestPort: 2, Payload: make([]byte, 1200)}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, DefaultMaxDatagram)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		idx := <-g.free
		if !g.data(g.slots[idx][:copy(g.slots[idx], msg)], idx) {
			t.Fatal("data not queued")
		}
		if d, err := g.Read(ctx, buf); err != nil || len(d.Payload) != 1200 {
			t.Fatalf("Read: %d octets, %v", len(d.Payload), err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per data packet, want 0", allocs)
	}
}
