package e2e

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// setLoads gives the load exporter new readings ("1a=90" ...), which
// Prometheus scrapes and both Network 1 instances read.
func (tb *testbed) setLoads(t testing.TB, loads ...string) {
	t.Helper()
	if _, err := io.WriteString(tb.loads.stdin, strings.Join(loads, "\n")+"\n"); err != nil {
		t.Fatalf("setting loads %v: %v", loads, err)
	}
}

// loadMoves is scenario (d): with least-load, the answer follows the load
// the shared Prometheus reports, and both Network 1 instances give the
// same order to the same client. With the fleet health source they also
// agree while one of them alone cannot reach relay 1b, and serve the
// same SOA serial.
func (tb *testbed) loadMoves(t *testing.T) {
	tb.setLoads(t, "1a=90", "1b=10", "1a6=90", "1b6=10")
	t.Cleanup(func() {
		tb.setLoads(t, initialLoads...)
	})
	want := []string{"0 " + relay1b, "1 " + relay1a}
	start := time.Now()
	testenv.Eventually(t, "both instances rank 1b first", func() bool {
		return slices.Equal(rankedNow(t, dns1A), want) && slices.Equal(rankedNow(t, dns1B), want)
	})
	t.Logf("the answers followed the new loads %d ms after the exporter changed", time.Since(start).Milliseconds())
	tb.flushS1(t)
	g := tb.connect(t, source1)
	logTimings(t, g)
	wantRelay(t, g, relay1b)

	tb.fleetAgrees(t, want)
}

// fleetAgrees checks, with the fleet health source, that instance B,
// which alone cannot reach relay 1b, answers as instance A does, and that
// both serve the configured SOA serial.
func (tb *testbed) fleetAgrees(t *testing.T, want []string) {
	for _, addr := range []string{dns1A, dns1B} {
		r := query(t, nsUser, addr, s1Zone4, dns.TypeSOA)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != fleetSerial {
			t.Errorf("SOA of %s at %s: %v, want serial %d", s1Zone4, addr, r.Answer, fleetSerial)
		}
	}
	nsN1B.nft(t, fmt.Sprintf(`table inet amte2e_cut {
	chain output {
		type filter hook output priority 0;
		ip daddr %s drop
		ip6 daddr %s drop
	}
}`, relay1b, relay1b6))
	t.Cleanup(func() { nsN1B.run(t, "nft", "delete", "table", "inet", "amte2e_cut") })
	// Wait until B's own probes have failed more rounds than its down
	// count: alone, it would have dropped 1b by now.
	failures := func() float64 {
		return metricSum(metricsPage(dns1B), "coredns_amtrelay_probe_failures_total", `relay="1b"`)
	}
	before := failures()
	testenv.Eventually(t, "instance B's own probes of 1b fail 3 rounds", func() bool { return failures() >= before+3 })
	for i := range 3 {
		a, b := ranked(t, dns1A), ranked(t, dns1B)
		if !slices.Equal(a, b) {
			t.Fatalf("check %d: instance A answers %q, instance B (cut off from 1b) %q: the fleet disagrees", i, a, b)
		}
		if i == 0 {
			t.Logf("both instances answer %q (before the cut: %q)", a, want)
		}
		time.Sleep(time.Second)
	}
}
