package test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	_ "github.com/amtrelay/amtrelay/cmd/coredns/corebuild" // the custom build's plugins and order

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

// exampleCorefile returns corefile-examples/name with its port 1053
// replaced by 0, so tests run beside a server the user started.
func exampleCorefile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "corefile-examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return portRE.ReplaceAllString(string(b), "${1}:0${2}")
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
func relayStrings(t testing.TB, r *dns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != dns.TypeAMTRELAY {
			continue
		}
		rel, err := amtrelayrr.FromRR(rr)
		if err != nil {
			t.Fatalf("decoding %v: %v", rr, err)
		}
		out = append(out, rel.String())
	}
	return out
}

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
