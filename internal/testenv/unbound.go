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
	conf := UnboundConfig(dir, port, stubs, extra...)
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(LookPath(t, "unbound-checkconf", "unbound"), confPath).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s\n%s", err, out, conf)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startDaemon(t, "unbound", addr, exec.Command(bin, "-d", "-c", confPath))
	return addr
}

// UnboundConfig is the text of StartUnbound's unbound.conf: a resolver on
// 127.0.0.1@port, with its files in dir, QNAME minimisation in strict
// mode, the stub zones stubs (zone to "host:port") with the default local
// zones at and above them lifted, and the extra lines in its server:
// clause. Tests that run Unbound elsewhere (in a network namespace) start
// from it and add their own lines, such as root-hints.
func UnboundConfig(dir string, port int, stubs map[string]string, extra ...string) string {
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
		for _, line := range UnboundNoDefault(zone) {
			fmt.Fprintf(&conf, "\t%s\n", line)
		}
	}
	for zone, addr := range stubs {
		host, p, _ := strings.Cut(addr, ":")
		fmt.Fprintf(&conf, "stub-zone:\n\tname: %q\n\tstub-addr: %s@%s\n", zone, host, p)
	}
	return conf.String()
}

// UnboundNoDefault returns the server: lines that lift Unbound's default
// local zones (RFC 6303, and the RFC 5737 and RFC 3849 documentation
// prefixes) at zone and at every zone above it, up to arpa., so that
// Unbound resolves names there instead of answering them itself.
func UnboundNoDefault(zone string) []string {
	var lines []string
	for z := dns.Fqdn(zone); z != "arpa." && z != "."; {
		lines = append(lines, fmt.Sprintf("local-zone: %q nodefault", z))
		off, end := dns.NextLabel(z, 0)
		if end {
			break
		}
		z = z[off:]
	}
	return lines
}
