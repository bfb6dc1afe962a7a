package amtrelay

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/geotest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The beacons of the tests: an IPv4 and an IPv6 channel, sent to UDP
// port 5001.
var (
	beacon4 = amt.Channel{Source: mustAddr("198.51.100.7"), Group: mustAddr("232.1.1.1")}
	beacon6 = amt.Channel{Source: mustAddr("2001:db8:100::7"), Group: mustAddr("ff3e::8000:1")}
)

// beaconSender sends the beacons, 100 packets a second, through the
// relays that forward: amttest's Send hands each packet to the gateways
// that joined the channel through that relay, as a relay with a path to
// the source would. A relay that does not forward answers discovery and
// joins, and delivers nothing: it has no path.
type beaconSender struct {
	mu       sync.Mutex
	forwards map[*amttest.Relay]bool
}

func sendBeacons(t *testing.T, relays []*amttest.Relay, chs ...amt.Channel) *beaconSender {
	s := &beaconSender{forwards: map[*amttest.Relay]bool{}}
	testenv.Repeat(t, 10*time.Millisecond, func() bool {
		for _, r := range relays {
			if s.forwarding(r) {
				for _, ch := range chs {
					_, _ = r.Send(ch, 4000, 5001, []byte("beacon"))
				}
			}
		}
		return true
	})
	return s
}

func (s *beaconSender) forward(r *amttest.Relay, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forwards[r] = on
}

func (s *beaconSender) forwarding(r *amttest.Relay) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forwards[r]
}

// answerFor returns the relay addresses answered for source, in order.
func answerFor(t *testing.T, a *AMTRelay, source string) []string {
	t.Helper()
	var out []string
	for _, o := range order(t, ask(t, a, source, "127.0.0.1", "")) {
		out = append(out, strings.Fields(o)[1])
	}
	return out
}

// explainFor returns the _explain. TXT strings for source.
func explainFor(t *testing.T, a *AMTRelay, source string) []string {
	t.Helper()
	name, _ := dns.ReverseAddr(source)
	r := askName(t, a, "_explain."+name, dns.TypeTXT, "127.0.0.1", "")
	var out []string
	for _, rr := range r.Answer {
		out = append(out, rr.(*dns.TXT).Txt...)
	}
	return out
}

func pathGauge(relay string, ch amt.Channel) float64 {
	return testutil.ToFloat64(relayPath.WithLabelValues("", relay, ch.Source.String(), ch.Group.String()))
}

func beaconFailed(relay string, ch amt.Channel, reason beaconOutcome) float64 {
	return testutil.ToFloat64(beaconFailures.WithLabelValues("", relay, ch.Source.String(), ch.Group.String(), string(reason)))
}

// TestBeaconPath: three relays on loopback. a forwards the beacons; b
// answers discovery and joins but forwards nothing; c answers nothing at
// all. b leaves the answers of the sources whose beacon it does not
// deliver (IPv4 and IPv6), and stays in those of a source without a
// beacon; c, which could not be asked, is health's business and stays. The
// metric and explain say so. When b forwards again it comes back. Every
// probe leaves its channel.
func TestBeaconPath(t *testing.T) {
	relays, port := loopbackRelays(t)
	ra, rb, rc := relays[0], relays[1], relays[2]
	send := sendBeacons(t, relays, beacon4, beacon6)
	send.forward(ra, true)
	rc.Set(amttest.Behaviour{Drop: true})
	a := startedHandler(t, fmt.Sprintf(`amtrelay {
		relay a 127.0.0.2
		relay b 127.0.0.3
		relay c 127.0.0.4
		source 198.51.100.0/24 {
			beacon 198.51.100.7 232.1.1.1 5001 {
				interval 1s
				timeout 1s
				relay-port %[1]d
			}
		}
		source 2001:db8:100::/48 {
			beacon 2001:db8:100::7 ff3e::8000:1 5001 {
				interval 1s
				timeout 1s
				relay-port %[1]d
			}
		}
		source 203.0.113.0/24
		policy failover
		answer 3
		explain
	}`, port), nil)
	waitReady(t, a)

	all := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	withoutB := []string{"127.0.0.2", "127.0.0.4"}
	for _, src := range []string{"198.51.100.1", "2001:db8:100::1"} {
		testenv.Eventually(t, "b leaves the answers for "+src, func() bool { return slices.Equal(answerFor(t, a, src), withoutB) })
	}
	if got := answerFor(t, a, "203.0.113.1"); !slices.Equal(got, all) {
		t.Errorf("a source without a beacon: %q, want every relay", got)
	}
	if pathGauge("b", beacon4) != 0 || pathGauge("b", beacon6) != 0 || pathGauge("a", beacon4) != 1 || pathGauge("a", beacon6) != 1 {
		t.Errorf("relay_path: b %v %v, a %v %v", pathGauge("b", beacon4), pathGauge("b", beacon6), pathGauge("a", beacon4), pathGauge("a", beacon6))
	}
	if beaconFailed("b", beacon4, beaconNoData) == 0 || beaconFailed("c", beacon4, beaconDiscovery) == 0 || beaconFailed("c", beacon4, beaconNoData) != 0 {
		t.Errorf("failures: b no_data %v, c discovery %v, c no_data %v", beaconFailed("b", beacon4, beaconNoData), beaconFailed("c", beacon4, beaconDiscovery), beaconFailed("c", beacon4, beaconNoData))
	}
	want := "no path: relay b (127.0.0.3): up, no path to 198.51.100.7 via beacon (198.51.100.7,232.1.1.1) port 5001: no beacon data within 1s"
	if ex := explainFor(t, a, "198.51.100.1"); !slices.ContainsFunc(ex, func(s string) bool { return strings.HasPrefix(s, want) }) {
		t.Errorf("explain lacks %q:\n%s", want, strings.Join(ex, "\n"))
	}
	if ex := explainFor(t, a, "203.0.113.1"); slices.ContainsFunc(ex, func(s string) bool { return strings.Contains(s, "no path") }) {
		t.Errorf("explain of a source without a beacon mentions a path:\n%s", strings.Join(ex, "\n"))
	}

	send.forward(rb, true)
	for _, src := range []string{"198.51.100.1", "2001:db8:100::1"} {
		testenv.Eventually(t, "b comes back for "+src, func() bool { return slices.Equal(answerFor(t, a, src), all) })
	}
	if pathGauge("b", beacon4) != 1 || pathGauge("b", beacon6) != 1 {
		t.Errorf("relay_path of b once it forwards: %v %v", pathGauge("b", beacon4), pathGauge("b", beacon6))
	}
	if ex := explainFor(t, a, "198.51.100.1"); slices.ContainsFunc(ex, func(s string) bool { return strings.Contains(s, "no path") }) {
		t.Errorf("explain still says no path:\n%s", strings.Join(ex, "\n"))
	}

	// Every probe left: once the prober stops, no relay has a gateway
	// left on any channel. b, which delivered nothing at first, joined
	// and left too (an Update to join, two to leave, per probe).
	a.shutdown()
	for i, r := range relays[:2] {
		testenv.Eventually(t, fmt.Sprintf("relay %d has no member left", i), func() bool { return len(r.Channels()) == 0 })
	}
	if n := rb.Updates(); n < 6 {
		t.Errorf("b accepted %d Updates: want at least two probes' join and leaves", n)
	}
}

// TestBeaconConcurrency: with concurrency 2, no more than two probes of a
// beacon run at once, though three relays (none of which delivers) keep
// each probe waiting for the whole timeout. With every relay lacking a
// path the source fails open, as with every relay down, and `readiness
// strict` still says ready: other sources may have relays to offer.
func TestBeaconConcurrency(t *testing.T) {
	relays, port := loopbackRelays(t)
	a := startedHandler(t, fmt.Sprintf(`amtrelay {
		relay a 127.0.0.2
		relay b 127.0.0.3
		relay c 127.0.0.4
		source 198.51.100.0/24 {
			beacon 198.51.100.7 232.1.1.1 5001 {
				interval 10s
				timeout 1s
				concurrency 2
				relay-port %d
			}
		}
		policy failover
		answer 3
		readiness strict
		explain
	}`, port), nil)
	waitReady(t, a)
	b := a.groups[0].beacon
	if p := b.peak.Load(); p != 2 {
		t.Errorf("%d probes ran at once, want 2 (concurrency 2, three relays)", p)
	}
	for i, r := range relays {
		// The probe's last leave may still be on its way when the
		// server is ready.
		testenv.Eventually(t, fmt.Sprintf("relay %d accepted the probe's join and leaves (3 Updates)", i), func() bool { return r.Updates() >= 3 })
		testenv.Eventually(t, fmt.Sprintf("relay %d has no member left", i), func() bool { return len(r.Channels()) == 0 })
	}
	if got := answerFor(t, a, "198.51.100.1"); len(got) != 3 {
		t.Errorf("no relay has a path: %q, want all three (all-down fail-open)", got)
	}
	ex := explainFor(t, a, "198.51.100.1")
	if !slices.Contains(ex, "fallback: all_down") || !strings.Contains(strings.Join(ex, "\n"), "; no path to 198.51.100.7 via beacon") {
		t.Errorf("explain:\n%s", strings.Join(ex, "\n"))
	}
	if !a.Ready() {
		t.Error("not ready with readiness strict: relays without a path to one source are still up")
	}
}

// TestNoPathNarrowsScope: a relay without a path counts as a relay that
// is down for ECS scopes too. With every relay reaching the source, the
// closest answer holds for the merged /23 of two networks that rank
// alike; once the nearest relay has no path, the answer changes and holds
// for the client's /24 only (RFC 7871 §7.2.1).
func TestNoPathNarrowsScope(t *testing.T) {
	places := []geotest.Place{
		{Network: "10.0.0.0/24", City: "London", Country: "GB", Lat: 51.5, Lon: -0.12},
		{Network: "10.0.1.0/24", City: "London", Country: "GB", Lat: 51.6, Lon: -0.2},
	}
	// The relays are on loopback, on a port where nothing answers: the
	// prober's rounds there say nothing of the path (discovery), and the
	// test feeds the verdicts as the prober does.
	a := startedHandler(t, fmt.Sprintf(`amtrelay {
		relay lon 127.0.0.2 {
			location 51.5 -0.1
		}
		relay nyc 127.0.0.3 {
			location 40.7 -74.0
		}
		source 198.51.100.0/24 {
			beacon 198.51.100.7 232.1.1.1 5001 {
				interval 10m
				timeout 100ms
				relay-port %d
			}
		}
		source 203.0.113.0/24
		policy closest
		answer 1
		geoip GEOIP
	}`, testenv.FreePort(t)), places)
	waitReady(t, a)
	answer := func(source string) ([]string, uint8) {
		r := ask(t, a, source, "127.0.0.1", "10.0.0.7/32")
		return order(t, r), replyECS(r).SourceScope
	}
	if got, scope := answer("198.51.100.12"); !slices.Equal(got, []string{"0 127.0.0.2"}) || scope != 23 {
		t.Fatalf("all with a path: %q scope /%d, want lon with scope /23", got, scope)
	}
	b, lon := a.groups[0].beacon, a.relays[0]
	(&beaconProber{}).judge(b, lon, beaconNoData)
	if got, scope := answer("198.51.100.12"); !slices.Equal(got, []string{"0 127.0.0.3"}) || scope != 24 {
		t.Errorf("lon without a path: %q scope /%d, want nyc with scope /24", got, scope)
	}
	if got, scope := answer("203.0.113.12"); !slices.Equal(got, []string{"0 127.0.0.2"}) || scope != 23 {
		t.Errorf("a source without a beacon: %q scope /%d, want lon with scope /23", got, scope)
	}
	(&beaconProber{}).judge(b, lon, beaconOK)
	if got, scope := answer("198.51.100.12"); !slices.Equal(got, []string{"0 127.0.0.2"}) || scope != 23 {
		t.Errorf("lon back: %q scope /%d", got, scope)
	}
}
