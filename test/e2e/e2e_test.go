package e2e

import (
	"slices"
	"testing"
)

// TestEndToEnd builds the topology once and runs the scenarios of issue
// 14 on it, in order. Each scenario's cleanups restore routes, relays,
// loads and rules; before the next scenario starts, the test waits until
// both Network 1 instances answer as at the start again (a restarted
// relay is back in the answers only when health and the fleet's
// Prometheus view say so, seconds later), so a scenario neither fails
// nor passes by what the one before left behind.
func TestEndToEnd(t *testing.T) {
	tb := up(t)
	for _, s := range []struct {
		name string
		run  func(*testbed, *testing.T)
	}{
		{"a_seed_example", (*testbed).seedExample},
		{"b_anycast_moves", (*testbed).anycastMoves},
		{"c_relay_dies", (*testbed).relayDies},
		{"d_load_moves", (*testbed).loadMoves},
		{"e_ipv6", (*testbed).ipv6},
		{"f_lossy_links", (*testbed).lossyLinks},
		{"g_network_withdraws", (*testbed).networkWithdraws},
		{"h_rfc8313", (*testbed).rfc8313},
		{"i_data_path", (*testbed).dataPath},
	} {
		t.Run(s.name, func(t *testing.T) { s.run(tb, t) })
		tb.resettle(t, s.name)
	}
}

// wantRelay fails t unless the gateway connected to want.
func wantRelay(t *testing.T, g *gatewayReport, want string) {
	t.Helper()
	if g.relay() != want {
		t.Fatalf("the gateway connected to %s, want %s; candidates %v, attempts: %s%s", named(g.relay()), named(want), g.ranks(), g.outcomes(), g.precedenceSlip())
	}
}

// wantRanked fails t unless got equals want.
func wantRanked(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}
