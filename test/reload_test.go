package test

import (
	"net"
	"regexp"
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

// TestFailedReloadsLeaveNoWorkers: a reload whose new configuration fails
// to start after amtrelay was set up (here another server block's port is
// taken) leaves the running configuration serving, is counted, and starts
// no probe, poller or watcher: after five, no worker goroutine of the
// plugin runs beyond the running configuration's own. Only workers are
// counted: a query being answered, or an earlier test's server finishing
// its shutdown, runs plugin code for a moment too.
func TestFailedReloadsLeaveNoWorkers(t *testing.T) {
	_, corefile := healthExample(t)
	inst, err := ctest.CoreDNSServer(corefile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stopCoreDNS(inst) }()
	udp, _ := ctest.CoreDNSServerPorts(inst, 0)
	ask := func() []string {
		return relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	}
	testenv.Eventually(t, "all three relays up", func() bool { return len(ask()) == 3 })
	before := workerGoroutines()

	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	failing := corefile + "\n" + busy.LocalAddr().String() + " {\n    bind 127.0.0.1\n    whoami\n}\n"
	rejected := func() float64 {
		return pluginCounter(t, "coredns_amtrelay_reloads_rejected_total", map[string]string{"reason": "failed"})
	}
	failedBefore := rejected()
	for i := range 5 {
		next, err := inst.Restart(ctest.NewInput(strings.Replace(failing, "relay r3 127.0.0.3", "relay r3 127.0.0.3 {\n            drain\n        }", 1)))
		if err == nil {
			inst = next
			t.Fatalf("reload %d started although %s is taken", i+1, busy.LocalAddr())
		}
	}
	if got := ask(); len(got) != 3 {
		t.Errorf("after failed reloads the running configuration answers %q", got)
	}
	if n := rejected() - failedBefore; n != 5 {
		t.Errorf("reloads_rejected_total{reason=failed} went up by %v, want 5", n)
	}
	var after []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin goroutines before the reloads:\n%s", strings.Join(before, "\n\n"))
			t.Logf("plugin goroutines at the end:\n%s", strings.Join(after, "\n\n"))
		}
	})
	testenv.Eventually(t, "no worker goroutine beyond the running configuration's", func() bool {
		after = workerGoroutines()
		return len(after) <= len(before)
	})
}

// workerRE matches a stack of a background worker of the plugin: one that
// workers.start created, or that a worker's run created or runs in.
var workerRE = regexp.MustCompile(`plugin/amtrelay\.\(\*\w+\)\.(start|run)[.( ]`)

// workerGoroutines returns the stacks of the plugin's worker goroutines.
func workerGoroutines() []string {
	buf := make([]byte, 4<<20)
	var stacks []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if workerRE.MatchString(g) {
			stacks = append(stacks, g)
		}
	}
	return stacks
}
