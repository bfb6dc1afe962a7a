package amtrelay

import (
	"runtime"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"

	"golang.org/x/sys/unix"
)

// threadNice is the calling thread's nice value.
func threadNice(t *testing.T) int {
	t.Helper()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - prio
}

// TestReloadBoost: while a reload runs the process has one P more and the
// reloading thread runs at nice 19 (with CAP_SYS_NICE: see TestMayRaiseTo);
// a second begin changes nothing; end puts both back, and a second end
// does nothing.
func TestReloadBoost(t *testing.T) {
	runtime.LockOSThread() // the thread whose nice value is read
	defer runtime.UnlockOSThread()
	procs, nice := runtime.GOMAXPROCS(0), threadNice(t)
	if nice >= reloadNice {
		t.Skipf("this thread already runs at nice %d", nice)
	}
	// Only where the priority can be raised back is it lowered.
	wantNice := nice
	if hasCapSysNice() {
		wantNice = reloadNice
	}
	var b reloadBoost
	if err := b.end(); err != nil || runtime.GOMAXPROCS(0) != procs || threadNice(t) != nice {
		t.Fatalf("end without begin changed something: %v, GOMAXPROCS %d, nice %d", err, runtime.GOMAXPROCS(0), threadNice(t))
	}
	for range 2 {
		if err := b.begin(); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != procs+reloadExtraPs {
			t.Errorf("GOMAXPROCS %d during a reload, want %d", got, procs+reloadExtraPs)
		}
		if got := threadNice(t); got != wantNice {
			t.Errorf("the reloading thread runs at nice %d, want %d", got, wantNice)
		}
	}
	for range 2 {
		if err := b.end(); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("GOMAXPROCS %d after the reload, want %d", got, procs)
		}
	}
	// Lowered only where it may be raised back, the priority is back.
	if got := threadNice(t); got != nice {
		t.Errorf("nice %d after the reload, want %d back", got, nice)
	}
}

// TestReloadBoostPriorityEnds: a reload that runs longer than niceFor
// (one near saturation, where a thread at the lower priority gets little
// of the CPU) gets its priority back then, and keeps its P until it ends.
func TestReloadBoostPriorityEnds(t *testing.T) {
	testenv.RequireRoot(t) // raising a thread's priority back takes CAP_SYS_NICE
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	procs, nice := runtime.GOMAXPROCS(0), threadNice(t)
	b := reloadBoost{niceFor: 10 * time.Millisecond}
	if err := b.begin(); err != nil {
		t.Fatal(err)
	}
	defer b.end()
	deadline := time.Now().Add(20 * time.Second)
	for threadNice(t) != nice {
		if time.Now().After(deadline) {
			t.Fatalf("nice %d 20 s into a reload whose priority ends after 10 ms, want %d back", threadNice(t), nice)
		}
		time.Sleep(time.Millisecond)
	}
	if got := runtime.GOMAXPROCS(0); got != procs+reloadExtraPs {
		t.Errorf("GOMAXPROCS %d once the priority is back, want %d until the reload ends", got, procs+reloadExtraPs)
	}
	if err := b.end(); err != nil {
		t.Fatal(err)
	}
	if got, n := runtime.GOMAXPROCS(0), threadNice(t); got != procs || n != nice {
		t.Errorf("after the reload: GOMAXPROCS %d, nice %d; want %d and %d", got, n, procs, nice)
	}
}

// TestMayRaiseTo: only CAP_SYS_NICE, or a RLIMIT_NICE that reaches the old value,
// lets a reload lower its thread's priority (setrlimit(2): the limit is
// 20 - nice).
func TestMayRaiseTo(t *testing.T) {
	for _, c := range []struct {
		nice       int
		capSysNice bool
		limit      uint64
		want       bool
	}{
		{0, true, 0, true},
		{0, false, 0, false}, // the default limit: no raising at all
		{0, false, 20, true},
		{0, false, 19, false},
		{5, false, 15, true},
		{-5, false, 20, false},
		{0, false, unix.RLIM_INFINITY, true},
	} {
		if got := mayRaiseTo(c.nice, c.capSysNice, c.limit); got != c.want {
			t.Errorf("mayRaiseTo(%d, CAP_SYS_NICE %v, RLIMIT_NICE %d) = %v, want %v", c.nice, c.capSysNice, c.limit, got, c.want)
		}
	}
}
