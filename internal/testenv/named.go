package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// StartNamed runs BIND's named in the foreground as an authoritative-only
// server for zones, a map from zone name (such as
// "100.51.198.in-addr.arpa.") to zone-file text, and returns its address,
// "127.0.0.1:port". Each zone's text is written as is: give it $TTL, SOA
// and NS records. named listens on a free port on 127.0.0.1 only, with
// recursion off, its directory, pid file and session key in t.TempDir(),
// and one worker thread. StartNamed waits until every zone answers its SOA
// query, and stops named when the test ends; named's log is written to the
// test log if the test fails.
//
// named is found with LookPath(t, "named", "bind9"): without it the test
// skips, or fails when CI=true.
func StartNamed(t testing.TB, zones map[string]string) string {
	t.Helper()
	named := LookPath(t, "named", "bind9")
	dir := t.TempDir()

	// A port that is free now may be taken before named binds it: retry.
	var lastErr error
	for range 3 {
		port := FreePort(t)
		conf, names := NamedConfig(t, dir, []string{"127.0.0.1"}, port, zones)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		stop, log, err := runNamed(named, conf, addr, names)
		if err == nil {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("named log:\n%s", log())
				}
			})
			return addr
		}
		lastErr = fmt.Errorf("%w\nnamed log:\n%s", err, log())
		stop()
	}
	t.Fatalf("starting named: %v", lastErr)
	return ""
}

// runNamed starts named and waits for it to answer the SOA of each zone.
func runNamed(named, conf, addr string, zones []string) (stop func(), log func() string, err error) {
	var out SyncBuffer
	cmd := exec.Command(named, "-g", "-4", "-n", "1", "-c", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return func() {}, out.String, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(Patience)
	for _, z := range zones {
		for {
			m := new(dns.Msg)
			m.SetQuestion(z, dns.TypeSOA)
			r, _, err := c.Exchange(m, addr)
			if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
				break
			}
			select {
			case <-exited:
				return stop, out.String, fmt.Errorf("named exited before answering for %s", z)
			default:
			}
			if time.Now().After(deadline) {
				return stop, out.String, fmt.Errorf("named did not answer the SOA of %s at %s: %v %v", z, addr, r, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return stop, out.String, nil
}

// NamedConfig writes, in dir, one zone file per entry of zones (zone name
// to zone-file text, written as is) and a named.conf for an
// authoritative-only named listening on the IPv4 addresses listen at
// port: recursion off, its directory, pid file and session key in dir.
// It returns the path of named.conf and the zone names, sorted. StartNamed
// uses it on loopback; tests that run named elsewhere (in a network
// namespace) use it with their own addresses.
func NamedConfig(t testing.TB, dir string, listen []string, port int, zones map[string]string) (conf string, names []string) {
	t.Helper()
	for z := range zones {
		names = append(names, dns.Fqdn(z))
	}
	sort.Strings(names)
	var zoneConf strings.Builder
	for i, z := range names {
		file := filepath.Join(dir, "zone"+strconv.Itoa(i)+".db")
		text := zones[z]
		if text == "" {
			text = zones[strings.TrimSuffix(z, ".")]
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&zoneConf, "zone %q {\n\ttype primary;\n\tfile %q;\n};\n", z, file)
	}
	conf = filepath.Join(dir, "named.conf")
	text := fmt.Sprintf(`options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-query { any; };
	allow-transfer { none; };
};
controls { };
%s`, dir, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), dir, port, strings.Join(listen, "; "), zoneConf.String())
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, names
}
