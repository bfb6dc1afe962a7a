package e2e

import (
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// anycastMoves is scenario (b): the router's route to the anycast address
// changes so that Network 2's instance is nearer; once Unbound's cached
// answer is flushed, the answer names 2a and the gateway connects there.
func (tb *testbed) anycastMoves(t *testing.T) {
	further := []string{anycastDNS + "/32", "via", "10.0.3.2", "metric", "30"}
	nsRtr.run(t, "ip", routeArgs("del", anycastVia1)...)
	nsRtr.run(t, "ip", routeArgs("add", further)...)
	t.Cleanup(func() {
		nsRtr.run(t, "ip", routeArgs("del", further)...)
		nsRtr.run(t, "ip", routeArgs("add", anycastVia1)...)
		tb.flushS1(t)
	})
	tb.flushS1(t)
	wantRanked(t, "the anycast address's answer", ranked(t, anycastDNS), []string{"0 " + relay2a})
	g := tb.connect(t, source1)
	logTimings(t, g)
	wantRelay(t, g, relay2a)
}

// networkWithdraws is scenario (g): every relay of Network 1 stops; its
// instances, with readiness strict, say they are not ready; the test
// withdraws Network 1's anycast route, as a routing daemon following
// readiness would; the gateway then gets Network 2's relay.
func (tb *testbed) networkWithdraws(t *testing.T) {
	tb.relay1a.kill()
	tb.relay1b.kill()
	withdrawn := false
	t.Cleanup(func() {
		tb.relay1a, tb.relay1b = tb.restart(tb.relay1a), tb.restart(tb.relay1b)
		tb.waitReady(t, nsN1A, dns1A, tb.dnsA)
		tb.waitReady(t, nsN1B, dns1B, tb.dnsB)
		if withdrawn {
			nsRtr.run(t, "ip", routeArgs("add", anycastVia1)...)
		}
	})
	start := time.Now()
	testenv.Eventually(t, "both Network 1 instances not ready", func() bool {
		return !ready(nsUser, dns1A) && !ready(nsUser, dns1B)
	})
	t.Logf("Network 1's instances said not ready %d ms after its relays stopped", time.Since(start).Milliseconds())

	// Still announced, Network 1 answers with its dead relays (all-down
	// fail-open), and the gateway finds no relay: why the route must go.
	tb.flushS1(t)
	dead := tb.gateway(t, nsUser, "127.0.0.1", "-connect", "-no-dnssd", source1)
	if dead.ExitStatus != 6 || dead.relay() != "" {
		t.Errorf("with Network 1 announced and its relays dead: exit %d relay %q, want exit 6 (no relay answered)", dead.ExitStatus, dead.relay())
	}

	nsRtr.run(t, "ip", routeArgs("del", anycastVia1)...)
	withdrawn = true
	tb.flushS1(t)
	wantRanked(t, "the anycast address's answer after the withdrawal", ranked(t, anycastDNS), []string{"0 " + relay2a})
	g := tb.connect(t, source1)
	logTimings(t, g)
	wantRelay(t, g, relay2a)
}
