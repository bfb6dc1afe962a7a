package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// StartUnbound starts Unbound (Debian package unbound) as a recursive
// resolver on 127.0.0.1 with QNAME minimisation in strict mode, so an empty
// non-terminal answered NXDOMAIN breaks resolution as it would on the
// Internet. stubs maps each zone to the "host:port" of its authoritative
// server; Unbound's built-in blocking of the documentation reverse zones
// is lifted for them. extra lines are added to the server: clause; one
// that sets module-config (such as "validator iterator", with a
// trust-anchor line, to validate DNSSEC) replaces the default "iterator".
// It returns Unbound's "127.0.0.1:port" and stops it when the test ends.
func StartUnbound(t testing.TB, stubs map[string]string, extra ...string) string {
	t.Helper()
	bin := LookPath(t, "unbound", "unbound")
	dir := t.TempDir()
	port := FreePort(t)

	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	interface: 127.0.0.1@%d
	port: %d
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	qname-minimisation: yes
	qname-minimisation-strict: yes
	num-threads: 1
`, port, port, dir, filepath.Join(dir, "unbound.pid"))
	if !slices.ContainsFunc(extra, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "module-config:") }) {
		conf.WriteString("\tmodule-config: \"iterator\"\n")
	}
	for _, line := range extra {
		fmt.Fprintf(&conf, "\t%s\n", line)
	}
	for zone := range stubs {
		// Lift the default local zones (RFC 6303, RFC 5737 test nets) at
		// and above the stub zone.
		for z := zone; z != "arpa."; {
			fmt.Fprintf(&conf, "\tlocal-zone: %q nodefault\n", z)
			off, end := dns.NextLabel(z, 0)
			if end {
				break
			}
			z = z[off:]
		}
	}
	for zone, addr := range stubs {
		host, p, _ := strings.Cut(addr, ":")
		fmt.Fprintf(&conf, "stub-zone:\n\tname: %q\n\tstub-addr: %s@%s\n", zone, host, p)
	}
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(LookPath(t, "unbound-checkconf", "unbound"), confPath).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s\n%s", err, out, conf.String())
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startDaemon(t, "unbound", addr, exec.Command(bin, "-d", "-c", confPath))
	return addr
}
