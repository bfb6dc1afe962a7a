package e2e

import (
	"regexp"
	"strconv"
	"testing"
)

// lossyLinks is scenario (f): the end user's uplink drops every 5th UDP
// packet to ports 53 and 2268 (deterministic: numgen inc mod 5), and one
// of Network 1's two name servers is silent; Unbound starts from its root
// hints with nothing cached and nothing known of the servers. The gateway
// still connects, to one of Network 1's relays, and the test records how
// long it took: Happy Eyeballs and DNS retries do their job.
func (tb *testbed) lossyLinks(t *testing.T) {
	nsUser.nft(t, `table inet amte2e_loss {
	chain output {
		type filter hook output priority 0;
		oifname "uplink" udp dport { 53, 2268 } numgen inc mod 5 == 0 counter drop
	}
}`)
	nsNet1.nft(t, `table inet amte2e_silent {
	chain input {
		type filter hook input priority 0;
		ip daddr `+net1NS2+` counter drop
	}
}`)
	t.Cleanup(func() {
		nsUser.run(t, "nft", "delete", "table", "inet", "amte2e_loss")
		nsNet1.run(t, "nft", "delete", "table", "inet", "amte2e_silent")
		tb.flushAll(t)
	})
	tb.flushAll(t)
	g := tb.connect(t, source1)
	logTimings(t, g)
	if g.relay() != relay1a && g.relay() != relay1b {
		t.Errorf("the gateway connected to %s, want a Network 1 relay", named(g.relay()))
	}
	dropped := nftCounter(t, nsUser, "amte2e_loss")
	silenced := nftCounter(t, nsNet1, "amte2e_silent")
	t.Logf("the uplink dropped %d packets; the silent name server swallowed %d", dropped, silenced)
	if dropped == 0 {
		t.Errorf("no packet was dropped on the uplink: the loss rule did not apply")
	}
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// nftCounter sums the packet counters of an nft table in ns.
func nftCounter(t *testing.T, ns netns, table string) int {
	t.Helper()
	n := 0
	for _, m := range counterRE.FindAllStringSubmatch(ns.run(t, "nft", "list", "table", "inet", table), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}
