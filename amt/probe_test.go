package amt_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// beacon sends a packet of ch to port on relay every interval until the
// test ends, to whoever has joined: a source's beacon.
func beacon(tb testing.TB, relay *amttest.Relay, c amt.Channel, port uint16, interval time.Duration) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				relay.Send(c, 4000, port, []byte("beacon"))
			}
		}
	}()
	tb.Cleanup(func() { close(stop); wg.Wait() })
}

// TestProbe: a probe through a relay that forwards a beacon gets a packet
// on the beacon's port and leaves; through one that forwards nothing it
// fails when ctx ends, and leaves too.
func TestProbe(t *testing.T) {
	relay := startRelay(t, "127.0.0.1:0")
	beacon(t, relay, ch, 5001, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	res, err := amt.Probe(ctx, relay.Addr(), ch, 5001)
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Source != src || res.Data.DestPort != 5001 || string(res.Data.Payload) != "beacon" || res.FirstData <= 0 {
		t.Errorf("result %+v", res)
	}
	// Request, Update (join), Update ×2 (leave); Query and data received.
	if st := res.Stats; st.Requests != 1 || st.Updates != 3 || st.SentPackets != 4 || st.ReceivedPackets < 2 {
		t.Errorf("stats %+v", st)
	}
	testenv.Eventually(t, "the probe leaves", func() bool { return len(relay.Channels()) == 0 })

	silent := startRelay(t, "127.0.0.1:0")
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := amt.Probe(short, silent.Addr(), ch, 5001); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent relay: %v", err)
	}
	testenv.Eventually(t, "the failed probe leaves too", func() bool { return silent.Updates() == 3 && len(silent.Channels()) == 0 })
}

// BenchmarkJoinFirstData is the time from a fresh socket to the first data
// packet: Request, Query, Update, the relay's Send, decapsulation.
func BenchmarkJoinFirstData(b *testing.B) {
	relay := startRelay(b, "127.0.0.1:0")
	buf := make([]byte, 2048)
	ctx := context.Background()
	for b.Loop() {
		conn, err := net.Dial("udp", relay.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		g := &amt.Gateway{Conn: conn}
		if err := g.Join(ctx, src, group); err != nil {
			b.Fatal(err)
		}
		for len(relay.Members(ch)) == 0 {
			time.Sleep(10 * time.Microsecond)
		}
		relay.Send(ch, 1, 2, []byte("first"))
		if _, err := g.Read(ctx, buf); err != nil {
			b.Fatal(err)
		}
		g.Close()
		for len(relay.Members(ch)) != 0 {
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// BenchmarkProbe is one beacon probe (a beacon at 1000 packets a second)
// and its cost on the wire: the packets and UDP payload octets the
// gateway sends and receives.
func BenchmarkProbe(b *testing.B) {
	relay := startRelay(b, "127.0.0.1:0")
	beacon(b, relay, ch, 5001, time.Millisecond)
	var pkts, octets uint64
	for b.Loop() {
		res, err := amt.Probe(context.Background(), relay.Addr(), ch, 5001)
		if err != nil {
			b.Fatal(err)
		}
		st := res.Stats
		pkts += st.SentPackets + st.ReceivedPackets
		octets += st.SentBytes + st.ReceivedBytes
	}
	b.ReportMetric(float64(pkts)/float64(b.N), "packets/op")
	b.ReportMetric(float64(octets)/float64(b.N), "bytes/op")
}
