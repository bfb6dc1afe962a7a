package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// relayExporter is the operator's monitoring of the relays: an exporter
// with a load gauge per relay, which a real Prometheus scrapes.
type relayExporter struct{ *testenv.Exporter }

func newRelayExporter(t *testing.T) relayExporter {
	return relayExporter{testenv.StartExporter(t, "amt_relay_load", "relay")}
}

func (e relayExporter) set(loads map[string]float64) {
	for relay, v := range loads {
		e.Set(v, relay)
	}
}

// firstFrom asks for 198.51.100.12 from a London client subnet and
// returns the relays in answer order.
func firstFrom(t testing.TB, udp string) []string {
	var out []string
	for _, r := range relayStrings(t, queryECS(t, udp, "203.0.113.0/26")) {
		f := strings.Fields(r)
		out = append(out, f[len(f)-1])
	}
	return out
}

// pluginCounter reads a coredns_amtrelay counter from this process.
func pluginCounter(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// TestLeastLoadFromPrometheus: least-load follows the load a real
// Prometheus server gathers from the operator's exporter; bad values and
// unknown relays are counted and ignored; a stale or unreachable
// Prometheus makes the loads unknown after max-age, and answers fall back
// to distance.
func TestLeastLoadFromPrometheus(t *testing.T) {
	exp := newRelayExporter(t)
	exp.set(map[string]float64{"cam": 80, "chi": 20, "syd": 50, "ghost": 1})
	promURL, stopProm := testenv.StartPrometheus(t, strings.TrimPrefix(exp.URL(), "http://"))

	corefile := prepareCorefile(t, strings.ReplaceAll(exampleCorefile(t, "prometheus.corefile"), "http://127.0.0.1:9090", promURL))
	corefile = strings.Replace(corefile, "max-age 60s", "max-age 3s", 1)
	corefile = strings.Replace(corefile, "interval 5s", "interval 500ms", 1)
	udp, _ := startCoreDNS(t, corefile)

	cam, chi, syd := "192.0.2.1", "192.0.2.2", "192.0.2.3"
	testenv.Eventually(t, "answers follow the exported loads 80/20/50", func() bool {
		return slices.Equal(firstFrom(t, udp), []string{chi, syd, cam})
	})
	exp.set(map[string]float64{"chi": 95})
	testenv.Eventually(t, "answers follow chi rising to 95", func() bool {
		return slices.Equal(firstFrom(t, udp), []string{syd, cam, chi})
	})
	if pluginCounter(t, "coredns_amtrelay_load_errors_total", map[string]string{"source": "prometheus", "reason": "unknown_relay"}) == 0 {
		t.Error("the series for relay \"ghost\" was not counted as an unknown relay")
	}

	// A negative value is counted and not used.
	before := pluginCounter(t, "coredns_amtrelay_load_errors_total", map[string]string{"source": "prometheus", "reason": "invalid_value"})
	exp.set(map[string]float64{"syd": -1})
	testenv.Eventually(t, "a negative load is counted", func() bool {
		return pluginCounter(t, "coredns_amtrelay_load_errors_total", map[string]string{"source": "prometheus", "reason": "invalid_value"}) > before
	})
	exp.set(map[string]float64{"syd": 50})

	// Stale: the exporter goes away; Prometheus still returns its last
	// values for minutes, but their scrape time ages past max-age.
	exp.Close()
	testenv.Eventually(t, "a stale Prometheus falls back to distance (Cambridge, Chicago, Sydney from London)", func() bool {
		return slices.Equal(firstFrom(t, udp), []string{cam, chi, syd})
	})

	// Unreachable: Prometheus itself goes away; answers keep coming, by
	// distance.
	stopProm()
	time.Sleep(time.Second)
	if got := firstFrom(t, udp); !slices.Equal(got, []string{cam, chi, syd}) {
		t.Errorf("with Prometheus down: %q", got)
	}
}

// TestPrometheusExampleConfig: the example's prometheus.yml is a valid
// configuration (promtool), and it scrapes the address the example
// exporter's commands use.
func TestPrometheusExampleConfig(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool", "prometheus")
	out, err := exec.Command(promtool, "check", "config", filepath.Join("..", "corefile-examples", "prometheus.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join("..", "corefile-examples", "prometheus.yml"))
	if !strings.Contains(string(b), `"127.0.0.1:9101"`) || !strings.Contains(string(b), "loadexporter -listen 127.0.0.1:9101") {
		t.Error("prometheus.yml does not scrape the loadexporter the example starts")
	}
}
