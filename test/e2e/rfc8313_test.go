package e2e

import (
	"testing"
)

// rfc8313 is scenario (h): the use cases of RFC 8313 §3.3 to §3.5 as
// configurations of the same test bed. AD-1 is Network 1 (multicast
// enabled, with S1 and relays 1a and 1b); AD-2 is the end user's side:
// the router is AD-2's unicast border router (uBR), facing AD-1 over a
// peering link that carries no multicast, and the end user's Unbound is
// AD-2's resolver. Network 2 plays no part (its anycast route is the
// less preferred one).
func (tb *testbed) rfc8313(t *testing.T) {
	t.Run("3.3_peering_point_amt", tb.rfc8313PeeringPoint)
	t.Run("3.4_ad2_unicast", tb.rfc8313Unicast)
	t.Run("3.5_ad2_amt_nodes", tb.rfc8313AMTNodes)
}

// rfc8313PeeringPoint is §3.3: both domains are multicast enabled, the
// peering point is not. The AMT gateway sits at AD-2's border (uBR = AG,
// Figure 3) and finds AD-1's relay (AR) by DRIAD, through AD-2's
// resolver; AD-2 then forwards natively to its end users.
func (tb *testbed) rfc8313PeeringPoint(t *testing.T) {
	tb.flushS1(t)
	g := tb.gateway(t, nsRtr, userAddr, "-connect", "-no-dnssd", source1)
	logTimings(t, g)
	wantRelay(t, g, relay1a)
}

// rfc8313Unicast is §3.4: AD-2 is not multicast enabled and has no AMT
// relay of its own: DNS-SD in the end user's domain finds none, and the
// gateway embedded in the end user's device (EU/G, Figure 4) finds AD-1's
// relay by DRIAD and tunnels across AD-2 to it.
func (tb *testbed) rfc8313Unicast(t *testing.T) {
	tb.flushS1(t)
	g := tb.gateway(t, nsUser, "127.0.0.1", "-connect", "-dnssd-domain", "ad2-unicast.example", source1)
	logTimings(t, g)
	wantRelay(t, g, relay1a)
	for _, c := range g.Candidates {
		if c.Tier == "dns-sd" {
			t.Errorf("a DNS-SD candidate %v in AD-2, which has no relay", deref(c.Address))
		}
	}
}

// rfc8313AMTNodes is §3.5: AD-2 deploys AMT gateway/relay nodes, AGAR1 at
// the peering point and AGAR2 at its edge (Figure 5), and publishes
// AGAR2 by DNS-SD for its end users (_amt._udp.ad2.example) and AGAR1 for
// its edge nodes (_amt._udp.peering.ad2.example). The end user's gateway
// finds AGAR2 first, by DNS-SD, ahead of the source's own relays (RFC
// 8777 §3.1.1, §3.1.2 "Prefer Local Relays"): tunnel I3. AGAR2's gateway
// finds AGAR1 the same way (I2), and AGAR1's gateway finds AD-1's relay
// by DRIAD (I1).
func (tb *testbed) rfc8313AMTNodes(t *testing.T) {
	tb.start(t, nsRtr, "AGAR1's relay", false, tb.bin["amtresponder"], agar1+":"+relayPort)
	tb.start(t, nsRtr, "AGAR2's relay", false, tb.bin["amtresponder"], agar2+":"+relayPort)

	// The end user's gateway: DNS-SD ranks AGAR2 ahead of DRIAD's 1a.
	tb.flushS1(t)
	list := tb.gateway(t, nsUser, "127.0.0.1", "-dnssd-domain", "ad2.example", source1)
	if got := list.addresses(); len(got) < 2 || got[0] != agar2 || list.Candidates[0].Tier != "dns-sd" || got[1] != relay1a {
		t.Fatalf("the end user's candidates: %v, want AGAR2 (%s, dns-sd) first, then 1a (driad)", got, agar2)
	}
	// Connecting, AGAR2's answer, from AD-2's own zone, wins; the source's
	// chain is walked again (flushed) as it would be for a new source.
	tb.flush(t, net1Zone4)
	eu := tb.gateway(t, nsUser, "127.0.0.1", "-connect", "-dnssd-domain", "ad2.example", source1)
	logTimings(t, eu)
	wantRelay(t, eu, agar2)

	// AGAR2's gateway, inside AD-2, finds AGAR1 first.
	edge := tb.gateway(t, nsRtr, userAddr, "-dnssd-domain", "peering.ad2.example", source1)
	if got := edge.addresses(); len(got) == 0 || got[0] != agar1 {
		t.Errorf("AGAR2's gateway's candidates: %v, want AGAR1 (%s) first", got, agar1)
	}
	// AGAR1's gateway, at the peering point, finds AD-1's relay by DRIAD.
	tb.flushS1(t)
	peer := tb.gateway(t, nsRtr, userAddr, "-connect", "-no-dnssd", source1)
	logTimings(t, peer)
	wantRelay(t, peer, relay1a)
}
