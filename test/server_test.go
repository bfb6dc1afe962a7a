package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/amtrelayrr"
	_ "github.com/amtrelay/amtrelay/cmd/coredns/corebuild" // the custom build's plugins and order
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/coredns/caddy"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	ctest "github.com/coredns/coredns/test"

	"github.com/miekg/dns"
)

func init() { clog.Discard() }

// startCoreDNS starts the custom build on corefile and returns its UDP and
// TCP addresses. It stops the server when the test ends.
func startCoreDNS(t testing.TB, corefile string) (udp, tcp string) {
	t.Helper()
	i, udp, tcp, err := ctest.CoreDNSServerAndPorts(corefile)
	if err != nil {
		t.Fatalf("starting CoreDNS: %v\n%s", err, corefile)
	}
	t.Cleanup(func() { stopCoreDNS(i) })
	return udp, tcp
}

// stopCoreDNS stops i as CoreDNS does on SIGTERM: the servers, then the
// shutdown callbacks, which stop probes and pollers.
func stopCoreDNS(i *caddy.Instance) {
	i.Stop()
	i.ShutdownCallbacks()
}

// portRE matches the port of a server block key such as ".:1053".
var portRE = regexp.MustCompile(`(?m)^(\S*):1053(\s)`)

// readyRE matches the examples' documented ready address.
var readyRE = regexp.MustCompile(`ready 127\.0\.0\.1:8181`)

// exampleCorefile returns corefile-examples/name rewritten so that it runs
// beside a server the user started from the same file, and beside a
// second test run: the server port 1053 becomes 0, and the ready address a
// free port.
func exampleCorefile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "corefile-examples", name))
	if err != nil {
		t.Fatal(err)
	}
	s := portRE.ReplaceAllString(string(b), "${1}:0${2}")
	return readyRE.ReplaceAllLiteralString(s, "ready "+readyAddr(t))
}

// readyAddr is a free address for the ready plugin.
func readyAddr(t testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
}

// healthExample starts AMT responders on the health example's relay
// addresses (127.0.0.2-4) on one free port, not the documented 2268 that
// a user's own responders may hold, and returns them with the example
// rewritten to probe that port. The responders stop when the test ends.
func healthExample(t testing.TB) ([]*amttest.Relay, string) {
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
	corefile := exampleCorefile(t, "health.corefile")
	if !strings.Contains(corefile, "health 2268 ") {
		t.Fatal("health.corefile no longer has `health 2268`: update healthExample")
	}
	return relays, strings.Replace(corefile, "health 2268 ", fmt.Sprintf("health %d ", port), 1)
}

// query sends m to addr over network ("udp" or "tcp") and returns the
// reply, decoding AMTRELAY records with either D-bit.
func query(t testing.TB, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, _, err := amtrelayrr.Exchange(ctx, &dns.Client{Net: network}, m, addr)
	if err != nil {
		t.Fatalf("%s query %v to %s: %v", network, m.Question, addr, err)
	}
	return r
}

// relayStrings decodes the AMTRELAY answers of r, in order.
func relayStrings(t testing.TB, r *dns.Msg) []string { return testenv.Relays(t, r.Answer) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// ctestServer starts corefile and stops it at once; it returns the start
// error.
func ctestServer(corefile string) (*caddy.Instance, error) {
	i, err := ctest.CoreDNSServer(corefile)
	if err == nil {
		stopCoreDNS(i)
	}
	return i, err
}
