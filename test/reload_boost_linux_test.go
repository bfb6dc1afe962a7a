package test

import (
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	ctest "github.com/coredns/coredns/test"
	"golang.org/x/sys/unix"
)

// reloadProbe is a test plugin whose setup records GOMAXPROCS and its
// thread's nice value: a reload sets it up on the reloading goroutine,
// while the reload runs.
var reloadProbe struct{ procs, nice int }

func init() {
	plugin.Register("reloadprobe", func(*caddy.Controller) error {
		reloadProbe.procs, reloadProbe.nice = runtime.GOMAXPROCS(0), threadNice()
		return nil
	})
	dnsserver.Directives = append(dnsserver.Directives, "reloadprobe")
}

// threadNice is the calling thread's nice value, -100 when unknown.
func threadNice() int {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		return -100
	}
	return 20 - prio
}

// TestReloadsPutBackProcsAndPriority: a reload runs with one P more and
// at a lower priority (plugin/amtrelay/reloadboost.go), as a plugin set up during
// it sees; after a reload that started and after one that failed,
// GOMAXPROCS and the reloading thread's nice value are what they were.
func TestReloadsPutBackProcsAndPriority(t *testing.T) {
	testenv.RequireRoot(t) // raising a thread's priority back takes CAP_SYS_NICE
	_, corefile := healthExample(t)
	inst, err := ctest.CoreDNSServer(corefile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stopCoreDNS(inst) }()
	runtime.LockOSThread() // caddy reloads on the calling goroutine's thread
	defer runtime.UnlockOSThread()
	nice := threadNice
	procs, before := runtime.GOMAXPROCS(0), nice()
	check := func(what string) {
		t.Helper()
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("GOMAXPROCS %d after %s, want %d", got, what, procs)
		}
		if got := nice(); got != before {
			t.Errorf("nice %d after %s, want %d", got, what, before)
		}
	}
	drained := strings.Replace(corefile, "relay r3 127.0.0.3", "relay r3 127.0.0.3 {\n            drain\n        }", 1)
	drained = strings.Replace(drained, "amtrelay", "reloadprobe\n    amtrelay", 1)
	if inst, err = inst.Restart(ctest.NewInput(drained)); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if reloadProbe.procs != procs+1 || reloadProbe.nice <= before {
		t.Errorf("during the reload: GOMAXPROCS %d, nice %d; want %d and above %d", reloadProbe.procs, reloadProbe.nice, procs+1, before)
	}
	check("a reload")
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	failing := corefile + "\n" + busy.LocalAddr().String() + " {\n    bind 127.0.0.1\n    whoami\n}\n"
	if next, err := inst.Restart(ctest.NewInput(failing)); err == nil {
		inst = next
		t.Fatalf("a reload started although %s is taken", busy.LocalAddr())
	}
	check("a failed reload")
}
