package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// loopbackRelays starts test relays on 127.0.0.2-4, one port, and returns
// them with Corefile relay lines for them.
func loopbackRelays(t *testing.T) ([]*amttest.Relay, uint16) {
	t.Helper()
	relays, port, err := amttest.StartSamePort("127.0.0.2", "127.0.0.3", "127.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range relays {
			r.Close()
		}
	})
	return relays, port
}

func healthCorefile(port uint16, extra string) string {
	return fmt.Sprintf(`amtrelay {
		relay a 127.0.0.2
		relay b 127.0.0.3
		relay c 127.0.0.4
		source 198.51.100.0/24
		policy failover
		answer 3
		health %d {
			interval 1s
			timeout 1s
			down 2
			up 2
		}
		%s
	}`, port, extra)
}

func firstRelays(t *testing.T, a *AMTRelay) []string {
	t.Helper()
	var out []string
	for _, o := range order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "")) {
		out = append(out, strings.Fields(o)[1])
	}
	return out
}

func waitReady(t *testing.T, a *AMTRelay) {
	t.Helper()
	waitFor(t, a.Ready)
}

// TestHealthLeavesAndReturns: a relay that stops answering leaves the
// answers after `down` failed rounds, the server answering all along, and
// comes back after `up` good ones.
func TestHealthLeavesAndReturns(t *testing.T) {
	relays, port := loopbackRelays(t)
	a := startedHandler(t, healthCorefile(port, ""), nil)
	waitReady(t, a)
	all := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	if got := firstRelays(t, a); !slices.Equal(got, all) {
		t.Fatalf("all up: %q", got)
	}
	failed := func() float64 { return testutil.ToFloat64(probeFailures.WithLabelValues("", "b", "timeout")) }
	before := failed()
	relays[1].Set(amttest.Behaviour{Drop: true})
	waitFor(t, func() bool { return !slices.Contains(firstRelays(t, a), "127.0.0.3") })
	// It took `down 2` failed rounds, not one (the damping itself is
	// TestDamper's).
	if n := failed() - before; n < 2 {
		t.Errorf("b left the answers after %v failed round(s), want 2", n)
	}
	if got := firstRelays(t, a); !slices.Equal(got, []string{"127.0.0.2", "127.0.0.4"}) {
		t.Errorf("with b down: %q", got)
	}
	if testutil.ToFloat64(relayUp.WithLabelValues("", "b")) != 0 {
		t.Error("relay_up{relay=b} is not 0")
	}
	relays[1].Set(amttest.Behaviour{})
	waitFor(t, func() bool { return slices.Equal(firstRelays(t, a), all) })
	if testutil.ToFloat64(relayUp.WithLabelValues("", "b")) != 1 {
		t.Error("relay_up{relay=b} is not 1")
	}
}

// TestHealthFlapDamping: a lost round does not take a relay down while
// fewer than `down` rounds in a row are lost. The round counting itself is
// TestDamper's; this shows the prober feeds it. With `down 3`, a machine
// slow enough to lose two rounds before the relay answers again still
// passes.
func TestHealthFlapDamping(t *testing.T) {
	relays, port := loopbackRelays(t)
	a := startedHandler(t, strings.Replace(healthCorefile(port, ""), "down 2", "down 3", 1), nil)
	waitReady(t, a)
	lost := func() float64 { return testutil.ToFloat64(probeFailures.WithLabelValues("", "c", "timeout")) }
	before := lost()
	relays[2].Set(amttest.Behaviour{Drop: true})
	waitFor(t, func() bool { return lost() > before }) // a round lost
	relays[2].Set(amttest.Behaviour{})
	n := relays[2].Discoveries()
	waitFor(t, func() bool { return relays[2].Discoveries() > n+1 }) // a good round after it
	if !slices.Contains(firstRelays(t, a), "127.0.0.4") {
		t.Fatalf("relay left the answers after %v lost round(s); `down 3` needs three", lost()-before)
	}
}

// TestHealthFullRelay: with `request`, a relay whose Membership Query has
// the L flag counts as full and leaves the answers.
func TestHealthFullRelay(t *testing.T) {
	relays, port := loopbackRelays(t)
	a := startedHandler(t, strings.Replace(healthCorefile(port, ""), "up 2", "up 2\n\t\t\trequest", 1), nil)
	waitReady(t, a)
	before := testutil.ToFloat64(probeFailures.WithLabelValues("", "a", "full"))
	relays[0].Set(amttest.Behaviour{Limit: true})
	waitFor(t, func() bool { return !slices.Contains(firstRelays(t, a), "127.0.0.2") })
	if testutil.ToFloat64(probeFailures.WithLabelValues("", "a", "full")) <= before {
		t.Error("full probes not counted")
	}
	if relays[0].Requests() == 0 {
		t.Error("no Request was sent")
	}
}

// TestHealthIgnoresForgedReplies: a relay that sends only garbage, wrong
// nonces, oversized replies, or right replies from the wrong port, is
// down: none of it counts, and all of it is counted as ignored.
func TestHealthIgnoresForgedReplies(t *testing.T) {
	relays, port := loopbackRelays(t)
	other, err := net.ListenPacket("udp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := startedHandler(t, healthCorefile(port, ""), nil)
	waitReady(t, a)
	ignored := func() float64 {
		s := 0.0
		for _, r := range []string{"nonce", "source", "length", "malformed"} {
			s += testutil.ToFloat64(probeIgnored.WithLabelValues(r))
		}
		return s
	}
	before := ignored()
	relays[1].Set(amttest.Behaviour{Drop: true, Decoys: func(reply []byte) [][]byte {
		wrong := append([]byte(nil), reply...)
		wrong[4] ^= 0xff
		return [][]byte{wrong, reply[:7], {0xff, 0xff}, make([]byte, 2000)}
	}})
	relays[2].Set(amttest.Behaviour{Drop: true, DecoyFrom: other, Decoys: func(reply []byte) [][]byte { return [][]byte{reply} }})
	waitFor(t, func() bool { return slices.Equal(firstRelays(t, a), []string{"127.0.0.2"}) })
	if ignored()-before < 5 {
		t.Errorf("only %v replies counted as ignored", ignored()-before)
	}
	for _, reason := range []string{"nonce", "source", "length"} {
		if testutil.ToFloat64(probeIgnored.WithLabelValues(reason)) == 0 {
			t.Errorf("no reply ignored for %s", reason)
		}
	}
}

// TestHealthResolvesNames: a type-3 relay is probed at every address its
// name resolves to; localhost resolves to 127.0.0.1 here.
func TestHealthResolvesNames(t *testing.T) {
	relay, err := amttest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	a := newTestHandler(t, fmt.Sprintf(`amtrelay {
		relay n localhost.
		relay x does-not-exist.invalid.
		source 198.51.100.0/24
		policy failover
		health %d {
			interval 1s
			timeout 1s
		}
	}`, relay.Addr().Port()))
	// Names resolve from /etc/hosts only: no query leaves the machine.
	a.health.resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	a.startup()
	defer a.shutdown()
	waitReady(t, a)
	if relay.Discoveries() == 0 {
		t.Fatal("localhost. was not probed")
	}
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "")); !slices.Equal(got, []string{"0 localhost."}) {
		t.Errorf("answer %q, want only localhost. (the unresolvable name is down)", got)
	}
}

// TestReadyWaitsForFirstRound: not ready before the first probe round,
// ready after it even when a relay never answers (the round timed out).
func TestReadyWaitsForFirstRound(t *testing.T) {
	relays, port := loopbackRelays(t)
	relays[0].Set(amttest.Behaviour{Drop: true})
	a := newTestHandler(t, strings.NewReplacer("interval 1s", "interval 5s", "timeout 1s", "timeout 5s").Replace(healthCorefile(port, "")))
	if a.Ready() {
		t.Fatal("ready before probing started")
	}
	a.startup()
	defer a.shutdown()
	if a.Ready() {
		t.Error("ready before the first round could have finished")
	}
	waitFor(t, a.Ready)
}

// TestShutdownStopsEverything: probes, pollers and the GeoIP watcher end
// on shutdown (every reload runs it), with no goroutine left behind.
func TestShutdownStopsEverything(t *testing.T) {
	_, port := loopbackRelays(t)
	for range 3 { // as three reloads would
		a := newTestHandler(t, strings.NewReplacer("interval 1s", "interval 30s").Replace(healthCorefile(port, "")))
		a.startup()
		waitFor(t, a.Ready)
		a.shutdown()
	}
	var stacks string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("goroutines:\n%s", stacks)
		}
	})
	testenv.Eventually(t, "no worker goroutine left after shutdown", func() bool {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "amtrelay.(*healthChecker)") && !strings.Contains(stacks, "amtrelay.(*loadPoller)") && !strings.Contains(stacks, "amtrelay.(*geoDB)")
	})
}

// TestHealthSlowRelay: a relay that answers later than the timeout is
// down; one that answers within it is up.
func TestHealthSlowRelay(t *testing.T) {
	relays, port := loopbackRelays(t)
	relays[0].Set(amttest.Behaviour{Delay: 3 * time.Second}) // the timeout is 1 s
	relays[1].Set(amttest.Behaviour{Delay: 10 * time.Millisecond})
	a := startedHandler(t, healthCorefile(port, ""), nil)
	waitReady(t, a)
	if got := firstRelays(t, a); !slices.Equal(got, []string{"127.0.0.3", "127.0.0.4"}) {
		t.Errorf("with a too slow relay: %q", got)
	}
	if testutil.ToFloat64(probeFailures.WithLabelValues("", "a", "timeout")) == 0 {
		t.Error("timeouts not counted")
	}
}

// TestDownEffectTruthful: the log line for a relay going down says it
// leaves the answers only when another relay is up; with every relay down
// it names what the all-down behaviour does.
func TestDownEffectTruthful(t *testing.T) {
	a := newTestHandler(t, healthCorefile(2268, ""))
	rs := a.relays
	if got := a.health.downEffect(rs[0]); got != "it is left out of answers" {
		t.Errorf("with others up: %q", got)
	}
	rs[1].down.Store(true)
	rs[2].drained = true
	if got := a.health.downEffect(rs[0]); !strings.Contains(got, "answers still list every relay (all-down fail-open)") {
		t.Errorf("all down, fail-open: %q", got)
	}
	a.health.allDown = allDownServfail
	if got := a.health.downEffect(rs[0]); !strings.Contains(got, "SERVFAIL") {
		t.Errorf("all down, servfail: %q", got)
	}
}
