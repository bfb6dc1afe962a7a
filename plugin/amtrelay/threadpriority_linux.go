package amtrelay

import "golang.org/x/sys/unix"

// reloadNice is the nice value of a reloading thread: the lowest
// priority. Nice 10 held a few more queries back (a reload of 10,000
// relays at 35,000 queries/s, 3 runs each: 629, 891 and 796 queries over
// 10 ms, against 446, 868 and 459). At saturation a thread at 19 gets a
// 68th of the CPU; reloadNiceFor bounds that.
const reloadNice = 19

// lowerThreadPriority sets the calling thread's nice value to reloadNice
// (on Linux a nice value is per thread) and returns what puts the old one
// back (from any thread), reporting whether it could; nil when nothing
// was changed. The caller has locked its goroutine to the thread.
func lowerThreadPriority() func() bool {
	tid := unix.Gettid()
	// The system call returns 20 - nice (glibc's getpriority converts;
	// x/sys does not).
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return nil
	}
	old := 20 - prio
	var limit unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NICE, &limit) != nil {
		return nil
	}
	if old >= reloadNice || !mayRaiseTo(old, unix.Geteuid(), limit.Cur) || unix.Setpriority(unix.PRIO_PROCESS, tid, reloadNice) != nil {
		return nil
	}
	return func() bool { return unix.Setpriority(unix.PRIO_PROCESS, tid, old) == nil }
}

// mayRaiseTo reports whether a process with effective user euid and
// RLIMIT_NICE rlimNice may set a thread's nice value back to nice once it
// has lowered it: root may (CAP_SYS_NICE), others down to 20 - rlimNice
// (setrlimit(2)). A thread that could not be put back would stay at the
// lower priority with its goroutine, and so would every later reload, with
// no bound on how long: without it the reload keeps its priority.
func mayRaiseTo(nice, euid int, rlimNice uint64) bool {
	return euid == 0 || uint64(20-nice) <= rlimNice
}
