package test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestHealthExample runs corefile-examples/health.corefile with AMT
// responders on the three relay addresses, port 2268: stopping one takes
// it out of the answers within about 3 s (two failed rounds of 1 s with
// 500 ms timeouts), and restarting it brings it back, while the server
// answers throughout.
func TestHealthExample(t *testing.T) {
	addrs := []string{"127.0.0.2:2268", "127.0.0.3:2268", "127.0.0.4:2268"}
	responders := make([]*amttest.Relay, len(addrs))
	for i, a := range addrs {
		r, err := amttest.Start(a)
		if err != nil {
			t.Fatalf("starting a responder on %s: %v", a, err)
		}
		responders[i] = r
	}
	defer func() {
		for _, r := range responders {
			r.Close()
		}
	}()

	readyAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	corefile := strings.Replace(exampleCorefile(t, "health.corefile"), "ready 127.0.0.1:8181", "ready "+readyAddr, 1)
	udp, _ := startCoreDNS(t, corefile)
	eventually(t, 5*time.Second, "ready after the first probe round", func() bool {
		resp, err := http.Get("http://" + readyAddr + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	relays := func() []string {
		return relayStrings(t, query(t, "udp", udp, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)))
	}
	all := []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.3", "2 0 1 127.0.0.4"}
	if got := relays(); !slices.Equal(got, all) {
		t.Fatalf("all up: %q", got)
	}

	responders[1].Close()
	stopped := time.Now()
	eventually(t, 5*time.Second, "127.0.0.3 leaves the answers", func() bool {
		return slices.Equal(relays(), []string{"0 0 1 127.0.0.2", "1 0 1 127.0.0.4"})
	})
	t.Logf("127.0.0.3 left the answers %v after its responder stopped", time.Since(stopped).Round(10*time.Millisecond))
	if d := time.Since(stopped); d > 3500*time.Millisecond {
		t.Errorf("took %v, want about 3 s at most", d)
	}

	r, err := amttest.Start(addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	responders[1] = r
	restarted := time.Now()
	eventually(t, 5*time.Second, "127.0.0.3 comes back", func() bool { return slices.Equal(relays(), all) })
	t.Logf("127.0.0.3 was back %v after its responder restarted", time.Since(restarted).Round(10*time.Millisecond))
}
