package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/amtrelay/amtrelay/internal/geotest"
	"github.com/amtrelay/amtrelay/internal/testenv"
)

// Relay loads at the start, percent of capacity: 1a is the least loaded.
var initialLoads = []string{"1a=20", "1b=50", "1a6=20", "1b6=50"}

// services starts the programs, each in its namespace, in the order they
// depend on each other: the authorities, the relays and the monitoring,
// the AMT DNS instances (which probe the relays and read Prometheus), then
// the end user's resolver.
func (tb *testbed) services(t *testing.T) {
	t.Helper()
	named := testenv.LookPath(t, "named", "bind9")
	conf, names := testenv.NamedConfig(t, tb.path(), []string{rootServer}, 53, rootZones())
	tb.rootNamed = tb.start(t, nsRoot, "named (root)", false, named, "-g", "-4", "-n", "1", "-c", conf)
	dir1 := t.TempDir()
	conf1, names1 := testenv.NamedConfig(t, dir1, []string{net1NS1, net1NS2}, 53, net1Zones())
	tb.net1Named = tb.start(t, nsNet1, "named (Network 1)", false, named, "-g", "-4", "-n", "1", "-c", conf1)

	tb.startSource(t)
	tb.relay1a = tb.startRelay(t, nsR1A, "relay 1a", forwardS1, relay1a, relay1a6)
	tb.relay1b = tb.startRelay(t, nsR1B, "relay 1b", forwardS1, relay1b, relay1b6)
	tb.relay2a = tb.startRelay(t, nsNet2, "relay 2a", nil, relay2a, relay2a6)
	tb.loads = tb.start(t, nsNet1, "load exporter", true, append([]string{tb.bin["loadexporter"], "-listen", loadExporter}, initialLoads...)...)
	promConf := tb.write(t, "prometheus/prometheus.yml", testenv.PrometheusConfig(loadExporter, dns1A+":9153", dns1B+":9153"))
	tb.prometheus = tb.start(t, nsNet1, "prometheus", false, testenv.LookPath(t, "prometheus", "prometheus"),
		"--config.file="+promConf, "--storage.tsdb.path="+tb.path("prometheus", "data"),
		"--web.listen-address="+prometheusAddr, "--log.level=warn")

	tb.waitZones(t, nsRoot, rootServer, tb.rootNamed, names)
	tb.waitZones(t, nsNet1, net1NS1, tb.net1Named, names1)
	tb.waitHTTP(t, nsNet1, "http://"+prometheusAddr+"/-/ready", tb.prometheus)

	tb.startNet1(t)
	tb.dnsNet2 = tb.startCoreDNS(t, nsNet2, "AMT DNS (Network 2)", dns2, net2Corefile())
	tb.waitReady(t, nsNet2, dns2, tb.dnsNet2)

	tb.startUnbound(t)
}

// startNet1 starts Network 1's two instances, a fleet: health by quorum
// from the shared Prometheus, and one SOA serial.
func (tb *testbed) startNet1(t *testing.T) {
	t.Helper()
	geo := tb.path("city.mmdb")
	if err := geotest.Write(geo, geoPlaces); err != nil {
		t.Fatal(err)
	}
	tb.dnsA = tb.startCoreDNS(t, nsN1A, "AMT DNS (Network 1, A)", dns1A, net1Corefile(dns1A, geo))
	tb.dnsB = tb.startCoreDNS(t, nsN1B, "AMT DNS (Network 1, B)", dns1B, net1Corefile(dns1B, geo))
	tb.waitReady(t, nsN1A, dns1A, tb.dnsA)
	tb.waitReady(t, nsN1B, dns1B, tb.dnsB)
	// Ready once the first load read is done, which may be before
	// Prometheus's first scrape of the exporter: wait for the loads.
	testenv.Eventually(t, "both Network 1 instances rank by the initial loads", func() bool {
		return tb.settled(t)
	})
}

// resettle waits until the test bed is back in its initial state after
// scenario (settled), then flushes Unbound's cache of S1's zones.
func (tb *testbed) resettle(t *testing.T, scenario string) {
	t.Helper()
	start := time.Now()
	testenv.Eventually(t, "after "+scenario+": both Network 1 instances rank 1a ahead of 1b again", func() bool {
		return tb.settled(t)
	})
	t.Logf("after %s: back to the initial answers in %d ms", scenario, time.Since(start).Milliseconds())
	tb.flushS1(t)
}

// settled reports whether both Network 1 instances rank 1a ahead of 1b,
// as the initial loads say: the state every scenario starts from.
func (tb *testbed) settled(t testing.TB) bool {
	want := []string{"0 " + relay1a, "1 " + relay1b}
	return slices.Equal(rankedNow(t, dns1A), want) && slices.Equal(rankedNow(t, dns1B), want)
}

// forwardS1 makes a relay of Network 1 forward S1's multicast: it joins
// the channels its gateways join on S1's link, and forwards what is sent
// to dataPort.
var forwardS1 = []string{"-forward", dataPort, "-forward-if", relayToS1}

// startSource runs S1 (test/e2e/internal/mcsender) in its namespace,
// sending the beacon and the stream on S1's link, 20 datagrams a second
// each, pinned to the bridge (one link, TTL 1), before the relays and the
// instances start: an instance's first beacon round finds data.
func (tb *testbed) startSource(t *testing.T) {
	t.Helper()
	tb.source = tb.start(t, nsS1, "S1 (multicast sender)", false, tb.bin["mcsender"],
		"-netns", string(nsS1), "-if", s1Bridge, "-source", source1, "-rate", "20",
		beaconGroup+":"+dataPort, streamGroup+":"+dataPort)
	tb.waitOutput(t, tb.source, 1, "pinned to "+s1Bridge)
}

// startRelay runs an AMT relay (cmd/amtresponder) on the given addresses,
// with extra flags (forwardS1, or none).
func (tb *testbed) startRelay(t *testing.T, ns netns, name string, extra []string, addrs ...string) *proc {
	t.Helper()
	args := append([]string{tb.bin["amtresponder"]}, extra...)
	for _, a := range addrs {
		if strings.Contains(a, ":") {
			a = "[" + a + "]"
		}
		args = append(args, a+":"+relayPort)
	}
	p := tb.start(t, ns, name, false, args...)
	tb.waitOutput(t, p, strings.Count(strings.Join(addrs, " "), " ")+1, "answering AMT discovery on")
	return p
}

// startCoreDNS starts CoreDNS and waits until it answers at addr.
func (tb *testbed) startCoreDNS(t *testing.T, ns netns, name, addr, corefile string) *proc {
	t.Helper()
	p := tb.startCoreDNSProc(t, ns, name, corefile)
	tb.waitDNS(t, ns, addr, p)
	return p
}

func (tb *testbed) startCoreDNSProc(t *testing.T, ns netns, name, corefile string) *proc {
	t.Helper()
	path := tb.write(t, string(ns)+".Corefile", corefile)
	return tb.start(t, ns, name, false, tb.bin["coredns"], "-conf", path)
}

// answers reports whether the server at addr (port 53) answers the SOA
// query for zone from inside ns with NOERROR.
func (tb *testbed) answers(ns netns, addr, zone string) bool {
	r, err := ns.exchange(new(dns.Msg).SetQuestion(zone, dns.TypeSOA), addr+":53", 500*time.Millisecond)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}

// waitDNS waits until the AMT DNS at addr answers for S1's zone.
func (tb *testbed) waitDNS(t *testing.T, ns netns, addr string, p *proc) {
	t.Helper()
	tb.waitZones(t, ns, addr, p, []string{s1Zone4, s1Zone6})
}

// waitZones waits until the server at addr answers the SOA of each zone.
func (tb *testbed) waitZones(t *testing.T, ns netns, addr string, p *proc, zones []string) {
	t.Helper()
	for _, z := range zones {
		testenv.Eventually(t, p.name+" answers for "+z, func() bool {
			if p.exited() {
				t.Fatalf("%s exited: %s", p.name, p.out.String())
			}
			return tb.answers(ns, addr, z)
		})
	}
}

// waitReady waits until the instance's ready plugin says ready.
func (tb *testbed) waitReady(t *testing.T, ns netns, addr string, p *proc) {
	t.Helper()
	tb.waitHTTP(t, ns, "http://"+addr+":8181/ready", p)
}

// ready reports whether the instance at addr says ready.
func ready(ns netns, addr string) bool {
	return httpOK(ns, "http://"+addr+":8181/ready")
}

func httpOK(ns netns, url string) bool {
	resp, err := ns.httpClient().Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitHTTP waits until url answers 200 from inside ns.
func (tb *testbed) waitHTTP(t *testing.T, ns netns, url string, p *proc) {
	t.Helper()
	testenv.Eventually(t, p.name+" at "+url, func() bool {
		if p.exited() {
			t.Fatalf("%s exited: %s", p.name, p.out.String())
		}
		return httpOK(ns, url)
	})
}

// waitOutput waits until p has written s n times.
func (tb *testbed) waitOutput(t *testing.T, p *proc, n int, s string) {
	t.Helper()
	testenv.Eventually(t, p.name+" says "+s, func() bool {
		if p.exited() {
			t.Fatalf("%s exited: %s", p.name, p.out.String())
		}
		return strings.Count(p.out.String(), s) >= n
	})
}
