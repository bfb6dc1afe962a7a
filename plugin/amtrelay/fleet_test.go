package amtrelay

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

// TestJudgeFleet: the quorum over the instances' own verdicts, with
// explicit sample times: a relay is up when at least the quorum share of
// the instances reporting it with a fresh sample see it up; stale,
// unknown and invalid series do not count; with nothing fresh left, the
// view says why the own probes decide.
func TestJudgeFleet(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ra, rb, rc, rd := &relay{name: "a", down: newDownFlag()}, &relay{name: "b", down: newDownFlag()}, &relay{name: "c", down: newDownFlag()}, &relay{name: "d", down: newDownFlag()}
	idx := newRelayIndex([]*relay{ra, rb, rc, rd})
	cfg := fleetConfig{quorum: 0.5, maxAge: 10 * time.Second}
	s := func(relay, instance string, v float64, age time.Duration) sample {
		return sample{metric: model.Metric{"relay": model.LabelValue(relay), "instance": model.LabelValue(instance)}, value: v, at: at.Add(-age)}
	}
	samples := []sample{
		s("a", "1", 1, 0), s("a", "2", 1, time.Second), s("a", "3", 0, 2*time.Second), // 2 of 3 up
		s("b", "1", 1, 0), s("b", "2", 0, 0), s("b", "3", 0, 0), // 1 of 3 up
		s("c", "1", 1, 0), s("c", "2", 0, 0), s("c", "3", 0, 11*time.Second), // 1 of 2 fresh up
		s("d", "1", 0, 11*time.Second),                               // stale only: not covered
		s("ghost", "1", 0, 0), s("a", "4", 7, 0), s("b", "4", -1, 0), // unknown relay, invalid values
	}
	v := judgeFleet(samples, nil, at, cfg, idx)
	want := map[*relay]fleetVerdict{ra: {true, 2.0 / 3, 3}, rb: {false, 1.0 / 3, 3}, rc: {true, 0.5, 2}}
	if len(v.relays) != len(want) {
		t.Fatalf("verdicts %v, want %v", v.relays, want)
	}
	for r, w := range want {
		if got := v.relays[r]; got.up != w.up || got.instances != w.instances || fmt.Sprintf("%.3f", got.share) != fmt.Sprintf("%.3f", w.share) {
			t.Errorf("relay %s: %+v, want %+v", r.name, got, w)
		}
	}
	cfg.quorum = 0.75
	if judgeFleet(samples, nil, at, cfg, idx).relays[ra].up {
		t.Error("quorum 0.75: 2 of 3 is not enough")
	}
	cfg.quorum = 1
	if !judgeFleet([]sample{s("a", "1", 1, 0), s("a", "2", 1, 0), s("a", "3", 1, 0)}, nil, at, cfg, idx).relays[ra].up {
		t.Error("quorum 1: 3 of 3 up is up")
	}

	// Nothing fresh: the own probes decide, and the view says why.
	for _, tc := range []struct {
		samples []sample
		err     error
		want    string
	}{
		{[]sample{s("a", "1", 1, 11*time.Second)}, nil, "stale"},
		{[]sample{s("a", "1", 1, 11*time.Second)}, errors.New("connection refused"), "stale"},
		{nil, errors.New("connection refused"), "unreachable"},
		{nil, fmt.Errorf("matrix: %w", errNotVector), "bad_response"},
		{[]sample{s("ghost", "1", 1, 0)}, nil, "empty"},
		{nil, nil, "empty"},
	} {
		v := judgeFleet(tc.samples, tc.err, at, cfg, idx)
		if len(v.relays) != 0 || v.local != tc.want {
			t.Errorf("%d samples, error %v: %d verdicts, local %q, want %q", len(tc.samples), tc.err, len(v.relays), v.local, tc.want)
		}
	}
}

// fleetBed is one instance of a fleet under test, with the other
// instances' own verdicts served by exporters, all scraped by a real
// Prometheus: the instance's own relay_up comes from this process's real
// metrics.
type fleetBed struct {
	a      *AMTRelay
	relays []*amttest.Relay
	others []*testenv.Exporter
	server string
	stop   func()
}

func startFleetBed(t *testing.T, quorum string) *fleetBed {
	t.Helper()
	relays, port := loopbackRelays(t)
	own := httptest.NewServer(promhttp.HandlerFor(prometheus.DefaultGatherer, promhttp.HandlerOpts{}))
	t.Cleanup(own.Close)
	b := &fleetBed{relays: relays, server: "dns://fleet-" + strings.ReplaceAll(t.Name(), "/", "-") + ":53"}
	targets := []string{strings.TrimPrefix(own.URL, "http://")}
	for range 2 {
		e := testenv.StartExporter(t, "coredns_amtrelay_relay_up", "server", "relay")
		for _, r := range []string{"a", "b", "c"} {
			e.Set(1, b.server, r)
		}
		b.others = append(b.others, e)
		targets = append(targets, strings.TrimPrefix(e.URL(), "http://"))
	}
	url, stop := testenv.StartPrometheus(t, targets...)
	b.stop = stop
	corefile := fmt.Sprintf(`amtrelay {
		relay a 127.0.0.2
		relay b 127.0.0.3
		relay c 127.0.0.4
		source 198.51.100.0/24
		policy failover
		answer 3
		explain
		health %d {
			interval 500ms
			timeout 400ms
			down 1
			up 1
			fleet %s {
				interval 500ms
				max-age 5s
				%s
			}
		}
	}`, port, url, quorum)
	b.a = newTestHandler(t, corefile)
	b.a.setServerLabel(b.server)
	if err := b.a.startup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.a.shutdown() })
	waitReady(t, b.a)
	return b
}

// health is what decided relay name's state.
func (b *fleetBed) health(name string) string {
	for _, r := range b.a.relays {
		if r.name == name {
			if h := r.health.Load(); h != nil {
				return *h
			}
		}
	}
	return ""
}

func (b *fleetBed) source(s string) float64 {
	return testutil.ToFloat64(healthSource.WithLabelValues(b.server, s))
}

// TestFleetHealthQuorum: the fleet's view decides over the instance's
// own probes. A relay this instance alone cannot reach stays in its
// answers while the other instances see it up; a relay the others see
// down leaves them though this instance reaches it. The instance's
// relay_up stays its own probe result all along. When Prometheus goes
// away, the view ages past max-age and the own probes decide again.
func TestFleetHealthQuorum(t *testing.T) {
	b := startFleetBed(t, "")
	all := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	testenv.Eventually(t, "all three instances report every relay", func() bool {
		return strings.Contains(b.health("a"), "1.00 of 3 instance(s)") && strings.Contains(b.health("b"), "of 3") && strings.Contains(b.health("c"), "of 3")
	})
	if b.source("fleet") != 1 || b.source("local") != 0 {
		t.Errorf("health_source fleet %v local %v, want 1 and 0", b.source("fleet"), b.source("local"))
	}

	// A local fault: this instance cannot reach b; the others can.
	b.relays[1].Set(amttest.Behaviour{Drop: true})
	testenv.Eventually(t, "the fleet sees this instance's own verdict on b", func() bool {
		return strings.Contains(b.health("b"), "0.67 of 3 instance(s)")
	})
	if testutil.ToFloat64(relayUp.WithLabelValues(b.server, "b")) != 0 {
		t.Error("relay_up{relay=b} is not this instance's own verdict, 0")
	}
	if got := firstRelays(t, b.a); !slices.Equal(got, all) {
		t.Errorf("b, up for 2 of 3 instances (quorum 0.5), left the answers: %q", got)
	}
	explain := askName(t, b.a, "_explain.1.100.51.198.in-addr.arpa.", dns.TypeTXT, "127.0.0.1", "").Answer[0].String()
	if !strings.Contains(explain, "health: up by the fleet: 0.67 of 3 instance(s)") {
		t.Errorf("explain does not say the fleet decided b: %s", explain)
	}

	// The others see c down; this instance reaches it.
	for _, e := range b.others {
		e.Set(0, b.server, "c")
	}
	testenv.Eventually(t, "c leaves the answers, down for 2 of 3 instances", func() bool {
		return slices.Equal(firstRelays(t, b.a), all[:2])
	})
	if testutil.ToFloat64(relayUp.WithLabelValues(b.server, "c")) != 1 {
		t.Error("relay_up{relay=c} is not this instance's own verdict, 1")
	}

	// Prometheus goes away: after max-age the own probes decide: b (which
	// this instance cannot reach) leaves, c comes back.
	before := testutil.ToFloat64(fleetFallbacks.WithLabelValues(b.server, "stale"))
	b.stop()
	testenv.Eventually(t, "own probes decide once the fleet view is stale", func() bool {
		return slices.Equal(firstRelays(t, b.a), []string{"127.0.0.2", "127.0.0.4"})
	})
	if b.source("local") != 1 || b.source("fleet") != 0 {
		t.Errorf("health_source local %v fleet %v, want 1 and 0", b.source("local"), b.source("fleet"))
	}
	if testutil.ToFloat64(fleetFallbacks.WithLabelValues(b.server, "stale")) != before+1 {
		t.Error("the fall back to own probes was not counted once as stale")
	}
	if h := b.health("b"); !strings.Contains(h, "own probes") || !strings.Contains(h, "stale") {
		t.Errorf("b's health does not say the own probes decide, the fleet view being stale: %q", h)
	}
}

// TestFleetQuorumSetting: with quorum 1 every reporting instance must see
// a relay up: one instance's local fault takes it out everywhere.
func TestFleetQuorumSetting(t *testing.T) {
	b := startFleetBed(t, "quorum 1")
	b.relays[0].Set(amttest.Behaviour{Drop: true})
	testenv.Eventually(t, "a leaves the answers, down for 1 of 3 instances with quorum 1", func() bool {
		return slices.Equal(firstRelays(t, b.a), []string{"127.0.0.3", "127.0.0.4"}) && strings.Contains(b.health("a"), "down by the fleet")
	})
}

// TestFleetUnreachableAtStart: with no Prometheus listening, the first
// read fails, the instance is ready all the same, and its own probes
// decide.
func TestFleetUnreachableAtStart(t *testing.T) {
	relays, port := loopbackRelays(t)
	server := "dns://fleet-unreachable:53"
	before := testutil.ToFloat64(fleetFallbacks.WithLabelValues(server, "unreachable"))
	corefile := strings.Replace(healthCorefile(port, ""), "up 2", fmt.Sprintf("up 2\n\t\t\tfleet http://127.0.0.1:%d {\n\t\t\t\ttimeout 200ms\n\t\t\t}", testenv.FreePort(t)), 1)
	a := newTestHandler(t, corefile)
	a.setServerLabel(server)
	if err := a.startup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.shutdown() })
	waitReady(t, a)
	relays[2].Set(amttest.Behaviour{Drop: true})
	waitFor(t, func() bool { return slices.Equal(firstRelays(t, a), []string{"127.0.0.2", "127.0.0.3"}) })
	if testutil.ToFloat64(healthSource.WithLabelValues(server, "local")) != 1 {
		t.Error("health_source{source=local} is not 1")
	}
	if testutil.ToFloat64(fleetFallbacks.WithLabelValues(server, "unreachable")) != before+1 {
		t.Error("the unreachable fleet view was not counted once")
	}
}

func TestFleetSetupErrors(t *testing.T) {
	health := func(fleet string) string {
		return "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nhealth {\n" + fleet + "\n}\n}"
	}
	for _, tc := range []struct{ corefile, want string }{
		{health("fleet"), "fleet wants a Prometheus server URL"},
		{health("fleet ftp://x/"), "must be an http or https URL"},
		{health("fleet http://127.0.0.1:9090 q extra"), "fleet wants a Prometheus server URL"},
		{health("fleet http://127.0.0.1:9090 {\nquorum 0\n}"), "fleet quorum '0'"},
		{health("fleet http://127.0.0.1:9090 {\nquorum 1.5\n}"), "fleet quorum '1.5'"},
		{health("fleet http://127.0.0.1:9090 {\ninterval 1s\ntimeout 2s\n}"), "fleet timeout 2s is longer"},
		{health("fleet http://127.0.0.1:9090 {\nbogus 1\n}"), "unknown property 'bogus' in fleet"},
		{health("fleet http://127.0.0.1:9090\nfleet http://127.0.0.1:9091"), "fleet is given twice"},
	} {
		_, err := parseCorefile(tc.corefile)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.corefile, err, tc.want)
		}
	}
	a, err := parseCorefile(health("interval 2s\nfleet http://127.0.0.1:9090"))
	if err != nil {
		t.Fatal(err)
	}
	if f := a.health.fleet.cfg; f.interval != 2*time.Second || f.maxAge != 6*time.Second || f.timeout != time.Second || f.quorum != 0.5 || f.query != "" {
		t.Errorf("defaults: %+v", f)
	}
	if q := defaultFleetQuery("dns://:53"); q != `coredns_amtrelay_relay_up{server="dns://:53"}` {
		t.Errorf("default query %s", q)
	}
}
