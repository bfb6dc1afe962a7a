package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// beacon makes relay send a packet of ch to whoever joined, every 5 ms,
// until the test ends.
func beacon(t *testing.T, relay *amttest.Relay, ch amt.Channel) {
	testenv.Repeat(t, 5*time.Millisecond, func() bool {
		relay.Send(ch, 4000, 5001, []byte("stream"))
		return true
	})
}

// TestJoinData: -connect -join receives -count packets through the relay
// and reports them; the relay has no member afterwards (the leave).
func TestJoinData(t *testing.T) {
	testHost(t, dualStack)
	relay := startRelay(t)
	ch := amt.Channel{Source: netip.MustParseAddr("198.51.100.12"), Group: netip.MustParseAddr("232.1.1.1")}
	beacon(t, relay, ch)
	server := serveRelays(t, "10 0 1 127.0.0.1")
	args := []string{"-connect", "-join", "232.1.1.1", "-count", "3", "-relay-port", itoa(relay.Addr().Port()), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12"}
	code, out, errOut := runCLI(append(args, "-json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	got := decode(t, out)
	if got["received"] != float64(3) || got["first_data_ms"] == nil || got["data_source"] != "198.51.100.12" ||
		got["data_source_port"] != float64(4000) || got["data_dest_port"] != float64(5001) || got["group"] != "232.1.1.1" {
		t.Errorf("JSON:\n%s", out)
	}
	testenv.Eventually(t, "amtdiscover leaves", func() bool { return len(relay.Channels()) == 0 })
	code, out, errOut = runCLI(args...)
	if code != 0 || !strings.Contains(out, "received 3 packets of (198.51.100.12,232.1.1.1) through 127.0.0.1:") ||
		!strings.Contains(out, "from 198.51.100.12:4000 to port 5001") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}

// TestJoinNoData: connected, but no data within -timeout: exit 7, with
// "received": 0 and a reason.
func TestJoinNoData(t *testing.T) {
	testHost(t, dualStack)
	relay := startRelay(t)
	server := serveRelays(t, "10 0 1 127.0.0.1")
	code, out, errOut := runCLI("-json", "-timeout", "1s", "-connect", "-join", "232.1.1.1", "-relay-port", itoa(relay.Addr().Port()), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	got := decode(t, out)
	if code != 7 || got["relay"] != "127.0.0.1" || got["received"] != float64(0) || got["first_data_ms"] != nil || got["error"] == nil {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, _, errOut = runCLI("-timeout", "1s", "-connect", "-join", "232.1.1.1", "-relay-port", itoa(relay.Addr().Port()), "-server", server, "-no-anycast", "-no-dnssd", "198.51.100.12")
	if code != 7 || !strings.Contains(errOut, "no data from (198.51.100.12,232.1.1.1)") {
		t.Errorf("text: exit %d, stderr %q", code, errOut)
	}
}

func TestJoinUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-join", "232.1.1.1", "198.51.100.12"},                        // no -connect
		{"-connect", "-join", "10.0.0.1", "198.51.100.12"},             // not multicast
		{"-connect", "-join", "ff3e::1", "198.51.100.12"},              // families differ
		{"-connect", "-join", "232.1.1.1", "-count", "0", "192.0.2.1"}, // no packets
		{"-connect", "-advert-only", "-join", "232.1.1.1", "198.51.100.12"},
	} {
		if code, _, errOut := runCLI(args...); code != 2 || !strings.Contains(errOut, "-") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}
