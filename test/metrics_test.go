package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
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

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (coredns_amtrelay_[a-z_]+) `).FindAllStringSubmatch(string(body), -1) {
		exported[m[1]] = true
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
