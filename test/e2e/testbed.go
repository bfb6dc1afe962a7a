package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// testbed is the running topology: namespaces, links, and the programs
// in them.
type testbed struct {
	// top is the test the test bed lives as long as: programs restarted
	// by a scenario are stopped with it, not with the scenario.
	top  *testing.T
	dir  string
	bin  map[string]string // program name to path
	pids pids

	rootNamed, net1Named  *proc
	relay1a, relay1b      *proc
	relay2a               *proc
	source                *proc // S1, sending the beacon and the stream
	loads                 *proc // the load exporter; write "relay=load" lines
	prometheus            *proc
	dnsA, dnsB, dnsNet2   *proc
	unbound               *proc
	unboundConf           string
	hostLinks, hostTables string
}

// The project's programs the test bed runs, built once per run.
var programs = map[string]string{
	"coredns":      "github.com/amtrelay/amtrelay/cmd/coredns",
	"amtdiscover":  "github.com/amtrelay/amtrelay/cmd/amtdiscover",
	"amtresponder": "github.com/amtrelay/amtrelay/cmd/amtresponder",
	"loadexporter": "github.com/amtrelay/amtrelay/corefile-examples/loadexporter",
	"mcsender":     "github.com/amtrelay/amtrelay/test/e2e/internal/mcsender",
	"sessiongw":    "github.com/amtrelay/amtrelay/test/e2e/internal/sessiongw",
}

// lockPath serialises test beds: two at once would share names.
const lockPath = "/run/amtrelay-e2e.lock"

// up builds the whole topology and starts every program, or skips (fails
// under CI=true) when root or a tool is missing. Everything is torn down
// when t ends, whatever happens, and the end checks that nothing is left.
func up(t *testing.T) *testbed {
	t.Helper()
	testenv.RequireRoot(t)
	for _, tool := range tools {
		testenv.LookPath(t, tool.name, tool.pkg)
	}
	if _, err := os.Stat("/proc/thread-self/ns/net"); err != nil {
		testenv.Unavailable(t, "network namespaces not available: "+err.Error())
	}
	lock(t)
	tb := &testbed{top: t, dir: t.TempDir(), bin: map[string]string{}}
	tb.hostLinks, tb.hostTables = hostNetwork(t)
	removeLeftovers(t)
	// Registered first, so it runs last: after every process has
	// stopped and every namespace is gone.
	t.Cleanup(func() { tb.checkNothingLeft(t) })
	start := time.Now()
	for name, pkg := range programs {
		tb.bin[name] = testenv.Build(t, pkg)
	}
	t.Cleanup(testenv.RemoveBuilt)
	built := time.Now()
	tb.network(t)
	tb.checkIsolated(t)
	tb.services(t)
	t.Logf("test bed up: programs built in %d ms, network and services up in %d ms", built.Sub(start).Milliseconds(), time.Since(built).Milliseconds())
	return tb
}

// lock takes the test bed's lock for the rest of the test, or fails
// naming the process that holds it.
func lock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		f.Close()
		t.Fatalf("another end-to-end test bed is running (pid %s holds %s): wait for it, or stop it with test/e2e/topology.sh down", strings.TrimSpace(string(holder)), lockPath)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	t.Cleanup(func() {
		os.Remove(lockPath)
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// network makes the namespaces, links, addresses and routes.
func (tb *testbed) network(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		for _, ns := range existingNamespaces() {
			if err := removeNamespace(ns); err != nil {
				t.Error(err)
			}
		}
	})
	for _, ns := range allNamespaces {
		ipCmd(t, "netns", "add", string(ns))
		ns.run(t, "ip", "link", "set", "lo", "up")
	}
	for _, l := range links {
		// Made in a's namespace with its peer straight in b's.
		l.aNS.run(t, "ip", "link", "add", l.a, "type", "veth", "peer", "name", l.b, "netns", string(l.bNS))
		for _, end := range []struct {
			ns            netns
			dev, ip, ipv6 string
		}{{l.aNS, l.a, l.aIP, l.aV6}, {l.bNS, l.b, l.bIP, l.bV6}} {
			if end.ip != "" {
				end.ns.run(t, "ip", "addr", "add", end.ip+"/24", "dev", end.dev)
				end.ns.run(t, "ip", "-6", "addr", "add", end.ipv6+"/"+l.plen6, "dev", end.dev, "nodad")
			}
			end.ns.run(t, "ip", "link", "set", end.dev, "up")
		}
	}
	for _, br := range bridges {
		br.ns.run(t, "ip", "link", "add", "name", br.name, "type", "bridge", "mcast_snooping", "0")
		for _, port := range br.ports {
			br.ns.run(t, "ip", "link", "set", port, "master", br.name)
		}
		for _, a := range br.addrs {
			args := []string{"addr", "add", a, "dev", br.name}
			if strings.Contains(a, ":") {
				args = []string{"-6", "addr", "add", a, "dev", br.name, "nodad"}
			}
			br.ns.run(t, "ip", args...)
		}
		br.ns.run(t, "ip", "link", "set", br.name, "up")
	}
	for ns, addrs := range loopbacks {
		for _, a := range addrs {
			args := []string{"addr", "add", a, "dev", "lo"}
			if strings.Contains(a, ":") {
				args = []string{"-6", "addr", "add", a, "dev", "lo", "nodad"}
			}
			ns.run(t, "ip", args...)
		}
	}
	for _, ns := range forwarders {
		ns.run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	}
	for _, ns := range noRPFilter {
		// The effective value is the higher of "all" and the
		// interface's: both are set.
		keys := []string{"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"}
		for _, l := range links {
			if l.aNS == ns {
				keys = append(keys, "net.ipv4.conf."+l.a+".rp_filter=0")
			}
			if l.bNS == ns {
				keys = append(keys, "net.ipv4.conf."+l.b+".rp_filter=0")
			}
		}
		ns.run(t, "sysctl", append([]string{"-q", "-w"}, keys...)...)
	}
	for _, ns := range allNamespaces {
		for _, r := range routes[ns] {
			ns.run(t, "ip", routeArgs("add", r)...)
		}
	}
}

// routeArgs makes "ip route VERB ..." arguments of a route of the plan.
func routeArgs(verb string, r []string) []string {
	if len(r) > 0 && r[0] == "-6" {
		return append([]string{"-6", "route", verb}, r[1:]...)
	}
	return append([]string{"route", verb}, r...)
}

// hostNetwork lists the host's own links and nft tables, which the test
// bed must leave as they were.
func hostNetwork(t *testing.T) (linksText, tables string) {
	t.Helper()
	l, err := hostOutput("ip", "-o", "link", "show")
	if err != nil {
		t.Fatalf("ip link show: %v", err)
	}
	n, err := hostOutput("nft", "list", "tables")
	if err != nil {
		t.Fatalf("nft list tables: %v", err)
	}
	return linkNames(l), n
}

// linkNames is the sorted list of link names in "ip -o link show" output.
func linkNames(out string) string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			names = append(names, strings.TrimSuffix(strings.Split(f[1], "@")[0], ":"))
		}
	}
	return strings.Join(names, " ")
}

// checkIsolated checks the network safety promise: every namespace has
// only lo and the test bed's own veth ends and bridges, so no packet can
// leave the test bed, and the host's links are as they were.
func (tb *testbed) checkIsolated(t *testing.T) {
	t.Helper()
	own := map[netns]map[string]bool{}
	for _, ns := range allNamespaces {
		own[ns] = map[string]bool{"lo": true}
	}
	for _, l := range links {
		own[l.aNS][l.a], own[l.bNS][l.b] = true, true
	}
	for _, br := range bridges {
		own[br.ns][br.name] = true
	}
	for _, ns := range allNamespaces {
		for _, name := range strings.Fields(linkNames(ns.run(t, "ip", "-o", "link", "show"))) {
			if !own[ns][name] {
				t.Fatalf("namespace %s has link %s, which is not the test bed's: a packet could leave", ns, name)
			}
		}
	}
	for _, br := range bridges {
		for _, port := range strings.Fields(linkNames(br.ns.run(t, "ip", "-o", "link", "show", "master", br.name))) {
			if !slices.Contains(br.ports, port) {
				t.Fatalf("bridge %s in %s has port %s, which is not the test bed's", br.name, br.ns, port)
			}
		}
	}
	if l, _ := hostNetwork(t); l != tb.hostLinks {
		t.Fatalf("the host's links changed: before %q, now %q", tb.hostLinks, l)
	}
}

// checkNothingLeft fails t when the test bed left a namespace, a process
// or a change to the host's links or nft tables behind.
func (tb *testbed) checkNothingLeft(t *testing.T) {
	if left := existingNamespaces(); len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
	if left := tb.pids.alive(); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	if tb.hostLinks == "" {
		return
	}
	l, n := hostNetwork(t)
	if l != tb.hostLinks {
		t.Errorf("the host's links changed: before %q, after %q", tb.hostLinks, l)
	}
	if n != tb.hostTables {
		t.Errorf("the host's nft tables changed: before %q, after %q", tb.hostTables, n)
	}
}

// hostOutput runs a program in the host namespace and returns its
// output. Only for reading: the test bed changes nothing there but
// /run/netns.
func hostOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// path returns a file name in the test bed's directory.
func (tb *testbed) path(parts ...string) string {
	return filepath.Join(append([]string{tb.dir}, parts...)...)
}

// write writes a file in the test bed's directory and returns its path.
func (tb *testbed) write(t testing.TB, name, text string) string {
	t.Helper()
	p := tb.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
