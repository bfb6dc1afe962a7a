package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestMetricsMatchREADME: every coredns_amtrelay_ metric the plugin
// README lists is exported by the prometheus plugin once queries ran, and
// every one exported is in the README.
func TestMetricsMatchREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "plugin", "amtrelay", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(coredns_amtrelay_[a-z_]+)").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	corefile := prepareCorefile(t, strings.Replace(exampleCorefile(t, "closest.corefile"), "    log\n", "    log\n    prometheus "+metricsAddr+"\n", 1))
	udp, _ := startCoreDNS(t, corefile)
	queryECS(t, udp, "203.0.113.0/26")
	query(t, "udp", udp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))

	body := []byte(scrape(t, metricsAddr))
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (coredns_amtrelay_[a-z_]+) `).FindAllStringSubmatch(string(body), -1) {
		exported[m[1]] = true
	}
	// The health and load metrics appear once probes and loads run.
	healthAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	// No responder listens on the probed port, so probes fail, whatever
	// the user runs on the documented 2268.
	responders, hc := healthExample(t)
	for _, r := range responders {
		r.Close()
	}
	hc = strings.Replace(hc, "    log\n", "    log\n    prometheus "+healthAddr+"\n", 1)
	hc = strings.Replace(hc, "relay r2 127.0.0.2", "relay r2 127.0.0.2 {\n            load 5\n            metrics http://127.0.0.1:1/metrics\n        }", 1)
	hc = strings.Replace(hc, "all-down fail-open", "all-down fail-open\n        load {\n            scrape amt_relay_load\n        }", 1)
	hudp, _ := startCoreDNS(t, hc)
	query(t, "udp", hudp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))
	testenv.Eventually(t, "probe metrics", func() bool { return strings.Contains(scrape(t, healthAddr), "coredns_amtrelay_probe_failures_total") })
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (coredns_amtrelay_[a-z_]+) `).FindAllStringSubmatch(scrape(t, healthAddr), -1) {
		exported[m[1]] = true
	}
	for _, name := range []string{"coredns_amtrelay_relay_up", "coredns_amtrelay_probe_failures_total", "coredns_amtrelay_load_stale", "coredns_amtrelay_load_errors_total", "coredns_amtrelay_relay_load"} {
		if !exported[name] {
			t.Errorf("%s is not exported with health and load", name)
		}
	}
	for name := range exported {
		if !documented[name] {
			t.Errorf("%s is exported but not in the plugin README", name)
		}
	}
	for _, name := range []string{"coredns_amtrelay_answers_total", "coredns_amtrelay_ecs_queries_total", "coredns_amtrelay_geoip_loads_total", "coredns_amtrelay_fallbacks_total", "coredns_amtrelay_location_unknown_total"} {
		if !documented[name] {
			t.Errorf("%s is not documented", name)
		}
		if !exported[name] {
			t.Errorf("%s is not exported after queries", name)
		}
	}
	if answers := grepLines(string(body), "coredns_amtrelay_answers_total{"); !strings.Contains(answers, `relay="cam"`) {
		t.Errorf("no answer counted for relay cam (London client):\n%s", answers)
	}
	checkLabels(t, string(body), scrape(t, healthAddr))
}

// checkLabels: per-query metrics carry the server block's zone (never a
// per-source reverse zone) and the view, as coredns_dns_requests_total
// does; relay metrics carry the server label that the queries of their
// server block carry, so two server blocks may name relays alike.
func checkLabels(t *testing.T, closest, health string) {
	t.Helper()
	series := regexp.MustCompile(`(?m)^coredns_amtrelay_answers_total\{(.*)\} `).FindStringSubmatch(closest)
	if series == nil {
		t.Fatal("no answers_total series")
	}
	for _, want := range []string{`zone="."`, `view=""`, `server="dns://127.0.0.1:0"`} {
		if !strings.Contains(series[1], want) {
			t.Errorf("answers_total labels %s lack %s", series[1], want)
		}
	}
	if strings.Contains(closest, `zone="100.51.198.in-addr.arpa."`) {
		t.Error("a per-query metric is labelled with the plugin's reverse zone")
	}
	up := grepLines(health, "coredns_amtrelay_relay_up{")
	if !strings.Contains(up, `server="dns://127.0.0.1:0"`) || !strings.Contains(up, `relay="r2"`) {
		t.Errorf("relay_up series lack the server label:\n%s", up)
	}
	queried := grepLines(health, "coredns_amtrelay_answers_total{")
	if !strings.Contains(queried, `server="dns://127.0.0.1:0"`) {
		t.Errorf("the health example's answers have another server label than its relays:\n%s", queried)
	}
}

// scrape reads a Prometheus metrics page.
func scrape(t testing.TB, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPromtoolCheckMetrics: the plugin's metrics, as a server with health
// and load exports them, pass promtool check metrics (names, units, help).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool", "prometheus")
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	corefile := prepareCorefile(t, strings.Replace(exampleCorefile(t, "closest.corefile"), "    log\n", "    log\n    prometheus "+metricsAddr+"\n", 1))
	udp, _ := startCoreDNS(t, corefile)
	queryECS(t, udp, "203.0.113.0/26")
	checkMetricsWith(t, promtool, grepLines(scrape(t, metricsAddr), "coredns_amtrelay_"))
}

// promtoolCheck runs promtool check metrics on metrics, the text format.
func promtoolCheck(t *testing.T, metrics string) {
	t.Helper()
	checkMetricsWith(t, testenv.LookPath(t, "promtool", "prometheus"), metrics)
}

func checkMetricsWith(t *testing.T, promtool, metrics string) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(metrics + "\n")
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
