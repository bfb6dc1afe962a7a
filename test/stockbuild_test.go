package test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"
	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/miekg/dns"
)

// TestStockCoreDNSBuild follows the plugin README's Compilation section
// word for word with stock CoreDNS v1.15.0 from the module cache: a
// writable copy of its tree, the plugin.cfg line before file, a replace to
// this checkout, go get, go generate, go build. The build serves the
// static example, and CoreDNS's go line is what it was. It builds with
// -trimpath from a fixed folder, so that the build cache is reused between
// runs, and only in the run without the race detector.
func TestStockCoreDNSBuild(t *testing.T) {
	if raceEnabled {
		t.Skip("built once per .ci/run, in the pass without -race")
	}
	if testing.Short() {
		t.Skip("-short: building CoreDNS takes minutes")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	modcache, err := exec.Command(goTool, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(strings.TrimSpace(string(modcache)), "github.com", "coredns", "coredns@v1.15.0")
	if _, err := os.Stat(filepath.Join(src, "plugin.cfg")); err != nil {
		testenv.Unavailable(t, "CoreDNS v1.15.0 is not in the module cache (go mod download github.com/coredns/coredns@v1.15.0)")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// A directory of its own: two test runs at once (a developer's and a
	// helper's) once removed each other's tree in the middle of a build.
	// -trimpath keeps the build cache indifferent to where it is.
	dir := t.TempDir()
	if err := copyTree(src, dir); err != nil {
		t.Fatal(err)
	}
	goLine := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "go ") {
				return l
			}
		}
		return ""
	}
	before := goLine()

	// The README's steps.
	cfg, err := os.ReadFile(filepath.Join(dir, "plugin.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(cfg), "\n")
	i := slices.Index(lines, "file:file")
	if i < 0 {
		t.Fatal("plugin.cfg has no file:file line")
	}
	lines = slices.Insert(lines, i, "amtrelay:github.com/amtrelay/amtrelay/plugin/amtrelay")
	if err := os.WriteFile(filepath.Join(dir, "plugin.cfg"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("mod", "edit", "-replace", "github.com/amtrelay/amtrelay="+checkout)
	run("get", "github.com/amtrelay/amtrelay@v0.0.0")
	run("generate")
	run("build", "-trimpath", "-o", "coredns")
	if after := goLine(); after != before {
		t.Errorf("the build changed CoreDNS's go line from %q to %q", before, after)
	}

	// It serves the static example.
	port := testenv.FreePort(t)
	conf := filepath.Join(dir, "Corefile")
	example := strings.Replace(exampleCorefile(t, "static.corefile"), ".:0 {", fmt.Sprintf(".:%d {", port), 1)
	if err := os.WriteFile(conf, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "coredns"), "-conf", conf)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var got []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	testenv.Eventually(t, "stock CoreDNS with the plugin answers the static example", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		// amtrelayrr.Exchange: miekg/dns alone cannot unpack the D=1 record.
		r, _, err := amtrelayrr.Exchange(ctx, &dns.Client{}, new(dns.Msg).SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY), addr)
		if err != nil {
			return false
		}
		got = relayStrings(t, r)
		return len(got) > 0
	})
	if !slices.Equal(got, rfc8777Relays) {
		t.Errorf("answers %q, want %q\n%s", got, rfc8777Relays, out.String())
	}
}

// copyTree copies the regular files and directories under src to dst,
// writable (the module cache is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
