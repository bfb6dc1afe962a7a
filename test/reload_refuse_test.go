package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestEmptyCorefileRefusedAtReload: the built server (cmd/coredns) keeps
// serving its running configuration when the Corefile it reloads is empty,
// as an editor or `sed … > Corefile` leaves it for a moment: by SIGUSR1,
// and by the reload plugin catching the file mid-write. Each refusal is
// counted. A good Corefile, put in place by rename, then reloads.
func TestEmptyCorefileRefusedAtReload(t *testing.T) {
	bin := testenv.Build(t, "github.com/amtrelay/amtrelay/cmd/coredns")
	dir := t.TempDir()
	path := filepath.Join(dir, "Corefile")
	port := testenv.FreePort(t)
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	corefile := func(relay string) string {
		return fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    amtrelay {
        relay a %s
        source 198.51.100.0/24
        ns amt-dns.example.net.
    }
    prometheus %s
    reload 2s 0s
}
`, port, relay, metricsAddr)
	}
	if err := os.WriteFile(path, []byte(corefile("192.0.2.1")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-conf", path)
	cmd.Dir = dir
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	relay := func() string {
		m := new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
		r, _, err := (&dns.Client{}).Exchange(m, dnsAddr)
		if err != nil {
			return "error: " + err.Error()
		}
		if got := relayStrings(t, r); len(got) == 1 {
			return got[0]
		}
		return dns.RcodeToString[r.Rcode]
	}
	testenv.Eventually(t, "the server answers", func() bool { return relay() == "0 0 1 192.0.2.1" })

	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	// The reload plugin checks every 2 s and, refused, tries again at its
	// next check: two refusals show that both it and SIGUSR1 were turned
	// down, while the server kept answering from the running
	// configuration.
	testenv.Eventually(t, "two refused reloads counted", func() bool {
		return refusedReloads(t, metricsAddr) >= 2
	})
	if got := relay(); got != "0 0 1 192.0.2.1" {
		t.Fatalf("after the empty Corefile: %s", got)
	}
	if !strings.Contains(out.String(), "has no server block") {
		t.Error("the refusal was not logged")
	}

	// Written elsewhere and renamed into place, a good Corefile reloads.
	next := filepath.Join(dir, "Corefile.new")
	if err := os.WriteFile(next, []byte(corefile("192.0.2.9")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the new Corefile is served", func() bool { return relay() == "0 0 1 192.0.2.9" })
}

// refusedReloads reads coredns_amtrelay_reloads_rejected_total{reason="refused"}
// from the server's metrics endpoint; 0 when it cannot.
func refusedReloads(t testing.TB, addr string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^coredns_amtrelay_reloads_rejected_total\{reason="refused"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}
