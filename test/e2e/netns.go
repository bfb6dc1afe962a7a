package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// prefix starts the name of every namespace this package makes, so that
// the leftovers of a run that was killed can be found and removed.
const prefix = "amte2e-"

// netnsDir is where iproute2 keeps the named network namespaces.
const netnsDir = "/run/netns"

// tools are the programs the test bed runs, with their Debian packages.
var tools = []struct{ name, pkg string }{
	{"ip", "iproute2"},
	{"nft", "nftables"},
	{"unbound", "unbound"},
	{"unbound-control", "unbound"},
	{"unbound-checkconf", "unbound"},
	{"named", "bind9"},
	{"prometheus", "prometheus"},
}

// netns is one network namespace of the test bed, by its full name.
type netns string

// ipCmd runs ip (iproute2) with args in the host namespace (for netns
// add and del only) and fails t with its output if it fails.
func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// run runs name with args inside the namespace and returns its standard
// output; it fails t with the output when the command fails.
func (n netns) run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.try(name, args...)
	if err != nil {
		t.Fatalf("in %s: %s %s: %v\n%s", n, name, strings.Join(args, " "), err, out)
	}
	return out
}

// try runs name with args inside the namespace and returns its combined
// output and error.
func (n netns) try(name string, args ...string) (string, error) {
	cmd := n.command(name, args...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

// command is an exec.Cmd that runs name with args inside the namespace
// (ip netns exec switches namespace, then executes the program in its
// own place, so the process is the program). It dies with the test
// process (Pdeathsig), even when go test kills it on a timeout.
func (n netns) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", string(n), name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// nft loads an nftables ruleset (nft -f syntax) inside the namespace.
func (n netns) nft(t testing.TB, ruleset string) {
	t.Helper()
	cmd := n.command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in %s: nft -f: %v\n%s\n%s", n, err, out, ruleset)
	}
}

// existingNamespaces lists the test bed's namespaces that exist now.
func existingNamespaces() []netns {
	entries, _ := os.ReadDir(netnsDir)
	var out []netns
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, netns(e.Name()))
		}
	}
	return out
}

// removeNamespace kills every process inside ns and deletes it, with the
// links, routes and nft tables inside it.
func removeNamespace(ns netns) error {
	out, _ := exec.Command("ip", "netns", "pids", string(ns)).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if b, err := exec.Command("ip", "netns", "del", string(ns)).CombinedOutput(); err != nil {
		if _, serr := os.Stat(filepath.Join(netnsDir, string(ns))); serr == nil {
			return fmt.Errorf("ip netns del %s: %v: %s", ns, err, b)
		}
	}
	return nil
}

// removeLeftovers removes what an earlier run left behind: a run killed
// by go test's timeout skips its cleanups, and its processes die with it
// (Pdeathsig) but its namespaces stay.
func removeLeftovers(t testing.TB) {
	t.Helper()
	for _, ns := range existingNamespaces() {
		t.Logf("removing namespace %s left by an earlier run", ns)
		if err := removeNamespace(ns); err != nil {
			t.Fatal(err)
		}
	}
}
