package amtrelay

import (
	"runtime"
	"sync"
	"time"
)

// A reload computes in the goroutine that calls caddy's Restart: caddy
// lexes and parses the new Corefile, then every plugin's setup runs (this
// one parses its relays and builds k-d trees, nearest lists and ECS scope
// tables: about a second at 10,000 relays over a 200,000-network
// database), while the old configuration answers. Go gives a server with
// one CPU one P, and the goroutine that computes holds it: a query that
// arrives meanwhile waits for sysmon's network poll and a preemption, 10
// ms or more (test/bench, the reload scenario). So while a reload runs,
// reloadBoost gives the process one more P, so that one can poll the
// network and answer while another computes, and lowers the reloading
// thread's priority (nice 19, Linux), so that the kernel gives the CPU to
// the thread that answers whenever it has work. Both are put back when
// the reload ends, started or failed, and the priority after
// reloadNiceFor at the latest: a server near saturation leaves a thread
// at nice 19 a 68th of the CPU (a reload took 7 s so), and a reload must
// still end.
//
// caddy runs the old instance's OnRestart callbacks, the new instance's
// setup, and then the old instance's OnShutdown callbacks (on success) or
// its OnRestartFailed callbacks (on failure) in that one goroutine, so
// begin and end run on the same goroutine and the thread it is locked to.
type reloadBoost struct {
	mu     sync.Mutex
	active bool
	// procs is GOMAXPROCS before the reload.
	procs int
	// restore puts the thread's priority back, once, and reports
	// whether it could; nil when it was not changed. timer calls it
	// after niceFor (reloadNiceFor when zero).
	restore func() bool
	timer   *time.Timer
	niceFor time.Duration
}

// reloadNiceFor is how long a reload runs at the lower priority at most.
const reloadNiceFor = 5 * time.Second

// reloadExtraPs is how many Ps a reload adds. Two and three were
// measured worse on one CPU (test/bench/README.md): queries then run on
// two Ps, whose threads the kernel time-slices, and queue on the
// socket's write lock while its holder's thread waits for the CPU.
const reloadExtraPs = 1

// boost is the process's one reloadBoost: GOMAXPROCS is per process.
var boost reloadBoost

// begin starts a reload's boost; a boost already running is left as is.
func (b *reloadBoost) begin() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active {
		return nil
	}
	b.active = true
	b.procs = runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(b.procs + reloadExtraPs)
	runtime.LockOSThread()
	b.restore = nil
	if putBack := lowerThreadPriority(); putBack != nil {
		var once sync.Once
		var ok bool
		restore := func() bool {
			once.Do(func() { ok = putBack() })
			return ok
		}
		b.restore = restore
		d := b.niceFor
		if d == 0 {
			d = reloadNiceFor
		}
		b.timer = time.AfterFunc(d, func() { restore() })
	}
	return nil
}

// end puts back what begin changed. It does nothing without a boost
// running. begin lowers the priority only where it may raise it back
// (CAP_SYS_NICE, or RLIMIT_NICE: mayRaiseTo); should that still fail, the
// goroutine stays locked to the thread, so that nothing else runs on it
// at the lower priority: it is caddy's, which only reloads.
func (b *reloadBoost) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.active {
		return nil
	}
	b.active = false
	runtime.GOMAXPROCS(b.procs)
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if b.restore == nil || b.restore() {
		runtime.UnlockOSThread()
	}
	b.restore = nil
	return nil
}
