package test

import (
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestHealthExample runs corefile-examples/health.corefile with AMT
// responders on the three relay addresses: stopping one takes it out of
// the answers after failed rounds, and restarting it brings it back, while
// the server answers throughout. How many rounds that takes is the
// plugin's TestDamper; here the bounds are only generous ones.
func TestHealthExample(t *testing.T) {
	responders, corefile := healthExample(t)
	ready := regexp.MustCompile(`(?m)^\s*ready (\S+)`).FindStringSubmatch(corefile)[1]
	udp, _ := startCoreDNS(t, corefile)
	readyStatus := func() int {
		resp, err := http.Get("http://" + ready + "/ready")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	testenv.Eventually(t, "ready after the first probe round", func() bool { return readyStatus() == http.StatusOK })

	relays := func() []string {
		return relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	}
	all := []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.3", "2 0 1 127.0.0.4"}
	if got := relays(); !slices.Equal(got, all) {
		t.Fatalf("all up: %q", got)
	}

	port := responders[1].Addr()
	responders[1].Close()
	stopped := time.Now()
	testenv.Eventually(t, "127.0.0.3 leaves the answers", func() bool {
		return slices.Equal(relays(), []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.4"})
	})
	t.Logf("127.0.0.3 left the answers %v after its responder stopped", time.Since(stopped).Round(10*time.Millisecond))

	r, err := amttest.Start(port.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	restarted := time.Now()
	testenv.Eventually(t, "127.0.0.3 comes back", func() bool { return slices.Equal(relays(), all) })
	t.Logf("127.0.0.3 was back %v after its responder restarted", time.Since(restarted).Round(10*time.Millisecond))

	// With every relay down the answers fail open, and readiness strict
	// says so: /ready is 503 until a relay is back.
	for _, r := range append(responders, r) {
		r.Close()
	}
	testenv.Eventually(t, "not ready with every relay down", func() bool { return readyStatus() == http.StatusServiceUnavailable })
	if got := relays(); !slices.Equal(got, all) {
		t.Errorf("all down, fail open: %q", got)
	}
	back, err := amttest.Start(responders[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	testenv.Eventually(t, "ready again with 127.0.0.2 back", func() bool { return readyStatus() == http.StatusOK })
}
