package test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestBeaconExample runs corefile-examples/beacon.corefile through the
// real CoreDNS build with relays on 127.0.0.2-4 that forward real
// multicast: r2 and r4 join each channel a gateway joins on lo
// (IP_ADD_SOURCE_MEMBERSHIP) and forward what the kernel delivers; r3
// answers and joins but forwards nothing. The beacon is sent by a sender
// pinned to lo with TTL 0, checked before it sends. r3 is left out of the
// answers for the beacon's source, stays in those of the source without a
// beacon, and comes back once it forwards too.
func TestBeaconExample(t *testing.T) {
	relays, port, err := amttest.StartSamePort("127.0.0.2", "127.0.0.3", "127.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range relays {
			r.Close()
		}
	})
	errs := make(chan error, 16)
	onErr := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for _, r := range []*amttest.Relay{relays[0], relays[2]} {
		if err := r.ForwardKernel("lo", 5001, onErr); err != nil {
			t.Fatal(err)
		}
	}
	sendBeacon(t, netip.MustParseAddrPort("232.1.1.1:5001"))

	corefile := exampleCorefile(t, "beacon.corefile")
	if !strings.Contains(corefile, "health 2268 ") {
		t.Fatal("beacon.corefile no longer has `health 2268`: update TestBeaconExample")
	}
	corefile = strings.Replace(corefile, "health 2268 ", fmt.Sprintf("health %d ", port), 1)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	udp, tcp := startCoreDNS(t, strings.Replace(corefile, "    log\n", "    log\n    prometheus "+metricsAddr+"\n", 1))
	path := func(relay string) string {
		return grepLines(scrape(t, metricsAddr), fmt.Sprintf(`coredns_amtrelay_relay_path{group="232.1.1.1",relay=%q,server="dns://127.0.0.1:0",source="127.0.0.1"}`, relay))
	}

	answer := func(name string) []string {
		return relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion(name, dns.TypeAMTRELAY)))
	}
	all := []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.3", "2 0 1 127.0.0.4"}
	testenv.Eventually(t, "r3 leaves the answers for the beacon's source", func() bool {
		return slices.Equal(answer("1.0.0.127.in-addr.arpa."), []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.4"})
	})
	if got := answer("12.100.51.198.in-addr.arpa."); !slices.Equal(got, all) {
		t.Errorf("the source without a beacon: %q, want every relay", got)
	}
	if p3, p2 := path("r3"), path("r2"); !strings.HasSuffix(p3, "} 0") || !strings.HasSuffix(p2, "} 1") {
		t.Errorf("relay_path: r3 %q, r2 %q", p3, p2)
	}
	m := scrape(t, metricsAddr)
	if !strings.Contains(m, `coredns_amtrelay_beacon_probe_failures_total{group="232.1.1.1",reason="no_data",relay="r3"`) ||
		!strings.Contains(m, `coredns_amtrelay_beacon_probe_packets_total{direction="sent"`) {
		t.Errorf("beacon probe metrics missing:\n%s", grepLines(m, "beacon"))
	}
	// Over TCP: the explanation does not fit in 512 octets.
	r := query(t, "tcp", tcp, new(dns.Msg).SetQuestion("_explain.1.0.0.127.in-addr.arpa.", dns.TypeTXT))
	var explain []string
	for _, rr := range r.Answer {
		explain = append(explain, rr.(*dns.TXT).Txt...)
	}
	want := "no path: relay r3 (127.0.0.3): up, no path to 127.0.0.1 via beacon (127.0.0.1,232.1.1.1) port 5001"
	if !slices.ContainsFunc(explain, func(s string) bool { return strings.HasPrefix(s, want) }) {
		t.Errorf("explain lacks %q:\n%s", want, strings.Join(explain, "\n"))
	}

	if err := relays[1].ForwardKernel("lo", 5001, onErr); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "r3 comes back once it forwards", func() bool { return slices.Equal(answer("1.0.0.127.in-addr.arpa."), all) })
	if p3 := path("r3"); !strings.HasSuffix(p3, "} 1") {
		t.Errorf("relay_path of r3 once it forwards: %q", p3)
	}
	select {
	case err := <-errs:
		t.Errorf("forwarding: %v", err)
	default:
	}
	// Last, as it skips the test where promtool is missing.
	promtoolCheck(t, grepLines(scrape(t, metricsAddr), "coredns_amtrelay_"))
}

// sendBeacon sends a beacon from 127.0.0.1 to group, 50 packets a second,
// until the test ends, from a sender pinned to lo with multicast TTL 0:
// it never leaves this host.
func sendBeacon(t *testing.T, group netip.AddrPort) {
	t.Helper()
	s, err := amttest.NewSender("lo", netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pinned(); err != nil {
		s.Close()
		t.Fatalf("the beacon sender is not pinned to lo: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs after Repeat's cleanup has stopped it
	testenv.Repeat(t, 20*time.Millisecond, func() bool {
		if err := s.Send(group, []byte("beacon")); err != nil {
			t.Errorf("beacon: %v", err)
			return false
		}
		return true
	})
}
