package e2e

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// topologyEnv selects the mode topology.sh runs the test binary in: "up"
// builds the topology and keeps it up until SIGTERM or SIGINT; "down"
// removes whatever a test bed left. The state directory, where "up"
// writes its "ready" file, is AMTRELAY_E2E_STATE.
const (
	topologyEnv = "AMTRELAY_E2E_TOPOLOGY"
	stateEnv    = "AMTRELAY_E2E_STATE"
)

// TestTopology is topology.sh's entry point: the same test bed as
// TestEndToEnd, left running for a person to explore. Without
// AMTRELAY_E2E_TOPOLOGY it does nothing.
func TestTopology(t *testing.T) {
	switch mode := os.Getenv(topologyEnv); mode {
	case "":
		t.Skip("run by test/e2e/topology.sh up|down only")
	case "up":
		keepUp(t)
	case "down":
		testbedDown(t)
	default:
		t.Fatalf("%s=%q: want up or down", topologyEnv, mode)
	}
}

// keepUp builds the test bed, writes how to use it to the state
// directory's "ready" file, and waits for a signal.
func keepUp(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	tb := up(t)
	state := os.Getenv(stateEnv)
	if state == "" {
		t.Fatalf("%s is not set", stateEnv)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The test bed is up. Namespaces:")
	for _, ns := range allNamespaces {
		fmt.Fprintf(&b, " %s", ns)
	}
	fmt.Fprintf(&b, "\n\nFrom the end user's namespace, through its Unbound:\n")
	fmt.Fprintf(&b, "  ip netns exec %s dig @127.0.0.1 %s AMTRELAY\n", nsUser, reverse4)
	fmt.Fprintf(&b, "  ip netns exec %s %s @127.0.0.1 -no-anycast -no-dnssd -connect -v %s\n", nsUser, tb.bin["amtdiscover"], source1)
	fmt.Fprintf(&b, "  ip netns exec %s dig @%s %s AMTRELAY   # the anycast AMT DNS directly\n", nsUser, anycastDNS, reverse4)
	fmt.Fprintf(&b, "  ip netns exec %s unbound-control -c %s flush_zone %s\n", nsUser, tb.unboundConf, s1Zone4)
	fmt.Fprintf(&b, "  ip netns exec %s %s -source %s -group %s   # receive S1's stream through a relay (scenario i)\n", nsUser, tb.bin["sessiongw"], source1, streamGroup)
	fmt.Fprintf(&b, "Cut relay 1a's multicast path to S1 (scenario i; the beacons drop 1a within about 2 s):\n")
	fmt.Fprintf(&b, "  ip netns exec %s nft add table inet amte2e_cut \\; add chain inet amte2e_cut c '{ type filter hook prerouting priority 0; }' \\; add rule inet amte2e_cut c iifname %s ip daddr 224.0.0.0/4 drop\n", nsR1A, relayToS1)
	fmt.Fprintf(&b, "Move the anycast address to Network 2 (scenario b):\n")
	fmt.Fprintf(&b, "  ip netns exec %s ip route del %s\n", nsRtr, strings.Join(anycastVia1, " "))
	fmt.Fprintf(&b, "Files (Corefiles, zones, unbound.conf): %s\n", tb.dir)
	if err := os.WriteFile(filepath.Join(state, "ready"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	<-sig
	t.Log("signal received: tearing the test bed down")
}

// testbedDown removes every namespace a test bed left and checks that
// none is left.
func testbedDown(t *testing.T) {
	lock(t)
	removeLeftovers(t)
	if left := existingNamespaces(); len(left) > 0 {
		t.Fatalf("namespaces left: %v", left)
	}
}
