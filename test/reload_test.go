package test

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	ctest "github.com/coredns/coredns/test"

	"github.com/miekg/dns"
)

// TestReloadDrainsAndStopsProbes: draining a relay takes only a Corefile
// reload, and the old configuration's probes stop on reload and shutdown,
// leaving no goroutine behind.
func TestReloadDrainsAndStopsProbes(t *testing.T) {
	_, corefile := healthExample(t)
	before := probeGoroutines()
	inst, err := ctest.CoreDNSServer(corefile)
	if err != nil {
		t.Fatal(err)
	}
	udp, _ := ctest.CoreDNSServerPorts(inst, 0)
	ask := func() []string {
		return relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	}
	testenv.Eventually(t, "all three relays up", func() bool { return len(ask()) == 3 })

	drained := strings.Replace(corefile, "relay r3 127.0.0.3", "relay r3 127.0.0.3 {\n            drain\n        }", 1)
	inst, err = inst.Restart(ctest.NewInput(drained))
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	udp, _ = ctest.CoreDNSServerPorts(inst, 0)
	testenv.Eventually(t, "r3 drained after the reload", func() bool {
		return slices.Equal(ask(), []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.4"})
	})
	// One configuration's probers run, not two.
	if n := probeGoroutines() - before; n > 3 {
		t.Errorf("%d probe goroutines after one reload, want 3 (one per relay)", n)
	}
	stopCoreDNS(inst)
	testenv.Eventually(t, "no probe goroutines after shutdown", func() bool { return probeGoroutines() == before })
}

// probeGoroutines counts goroutines running a health prober.
func probeGoroutines() int {
	buf := make([]byte, 4<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "amtrelay.(*healthChecker).probeLoop")
}
