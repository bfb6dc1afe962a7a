package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// dataPath is scenario (i), issue 16: the gateway in the end user's
// network (sessiongw: a gatewayresolver.Session that joins (S1,
// 232.1.1.2) through each relay it connects) receives S1's stream through
// relay 1a. Then 1a's multicast path to S1 is cut, an nft rule on its
// link to S1, while its discovery still answers. Within the beacon
// rounds (2 s apart, timeout 2 s, down 2) both Network 1 instances find no beacon
// data through 1a and drop it from S1's answers (health still says up);
// the gateway's Session, seeing no traffic, holds 1a down, moves to 1b,
// and receives again.
func (tb *testbed) dataPath(t *testing.T) {
	testenv.Eventually(t, "both instances rank 1a first", func() bool { return tb.settled(t) })
	tb.flushS1(t)
	start := time.Now()
	gw := tb.startSessionGateway(t, source1, streamGroup)
	lines := func() []sessionLine {
		if gw.exited() {
			t.Fatalf("the gateway exited:\n%s", tail(gw.out.String(), 25))
		}
		return sessionLines(gw)
	}

	// The stream, through 1a: a second's worth of packets.
	testenv.Eventually(t, "the gateway receives the stream through 1a", func() bool {
		return received(lines(), relay1a, start) >= 20
	})
	all := lines()
	first := firstLine(all, start, func(l sessionLine) bool { return l.Event == "data" && l.Relay == relay1a })
	if c := firstLine(all, start, func(l sessionLine) bool { return l.Event == "connected" }); c == nil || c.Relay != relay1a {
		t.Fatalf("the gateway's first connection: %+v, want 1a (%s)", c, relay1a)
	}
	if n := received(all, relay1b, start); n != 0 {
		t.Fatalf("%d packets through 1b before the cut, which the gateway never joined", n)
	}

	// Both instances' beacons find the path through both relays.
	testenv.Eventually(t, "both instances' beacons see a path through 1a and 1b", func() bool {
		v := tb.pathVerdicts(t)
		return v["A/1a"] == 1 && v["A/1b"] == 1 && v["B/1a"] == 1 && v["B/1b"] == 1
	})

	// Cut 1a's multicast path; its discovery, on its other link, answers.
	cut := time.Now()
	nsR1A.nft(t, fmt.Sprintf(`table inet amte2e_nopath {
	chain prerouting {
		type filter hook prerouting priority 0;
		iifname %q ip daddr 224.0.0.0/4 meta l4proto udp counter drop
	}
}`, relayToS1))
	t.Cleanup(func() {
		nsR1A.run(t, "nft", "delete", "table", "inet", "amte2e_nopath")
	})

	testenv.Eventually(t, "1a gone from both instances' answers", func() bool {
		want := []string{"0 " + relay1b}
		return slices.Equal(rankedNow(t, dns1A), want) && slices.Equal(rankedNow(t, dns1B), want)
	})
	dropped := time.Since(cut)
	// The beacon, not health, took 1a out: it still answers discovery.
	for _, addr := range []string{dns1A, dns1B} {
		page := metricsPage(addr)
		if up := metricSum(page, "coredns_amtrelay_relay_up", `relay="1a"`); up != 1 {
			t.Errorf("instance %s: relay_up for 1a is %v, want 1 (only its path is cut)", addr, up)
		}
		if path := metricSum(page, "coredns_amtrelay_relay_path", `relay="1a"`, `group="`+beaconGroup+`"`); path != 0 {
			t.Errorf("instance %s: relay_path for 1a is %v, want 0 (no beacon data)", addr, path)
		}
	}

	// The gateway moves to 1b and receives again: counts that grow.
	var through1b *sessionLine
	testenv.Eventually(t, "the gateway receives the stream through 1b", func() bool {
		all := lines()
		through1b = firstLine(all, cut, func(l sessionLine) bool { return l.Event == "data" && l.Relay == relay1b })
		return received(all, relay1b, cut) >= 20
	})
	seen := received(lines(), relay1b, cut)
	testenv.Eventually(t, "data through 1b keeps coming", func() bool { return received(lines(), relay1b, cut) > seen })
	all = lines()
	if d := firstLine(all, cut, func(l sessionLine) bool { return l.Event == "dropped" && l.Relay == relay1a }); d == nil {
		t.Errorf("the gateway moved to 1b without dropping 1a: %+v", all)
	} else {
		t.Logf("the gateway dropped 1a %d ms after the cut: %s", d.Time.Sub(cut).Milliseconds(), d.Reason)
	}
	t.Logf("beacon verdicts after the cut %v; dropped on 1a's link: %d datagrams", tb.pathVerdicts(t), nftCounter(t, nsR1A, "amte2e_nopath"))
	t.Logf("timings %s: first data %d ms (1a), 1a left both answers %d ms after the cut (beacon interval 2s, timeout 2s, down 2), data through 1b %d ms after the cut (%d packets by now)",
		t.Name(), first.Time.Sub(start).Milliseconds(), dropped.Milliseconds(), through1b.Time.Sub(cut).Milliseconds(), received(all, relay1b, cut))
}

// pathVerdicts is each Network 1 instance's beacon verdict for 1a and
// 1b (coredns_amtrelay_relay_path), for the log.
func (tb *testbed) pathVerdicts(t *testing.T) map[string]float64 {
	out := map[string]float64{}
	for _, in := range []struct{ name, addr string }{{"A", dns1A}, {"B", dns1B}} {
		page := metricsPage(in.addr)
		for _, r := range []string{"1a", "1b"} {
			out[in.name+"/"+r] = metricSum(page, "coredns_amtrelay_relay_path", `relay="`+r+`"`, `group="`+beaconGroup+`"`)
		}
	}
	return out
}
