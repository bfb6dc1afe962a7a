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
	if old >= reloadNice || !mayRaiseTo(old, hasCapSysNice(), limit.Cur) || unix.Setpriority(unix.PRIO_PROCESS, tid, reloadNice) != nil {
		return nil
	}
	return func() bool { return unix.Setpriority(unix.PRIO_PROCESS, tid, old) == nil }
}

// mayRaiseTo reports whether a thread may set its nice value back to
// nice once it has lowered it: with CAP_SYS_NICE, or within RLIMIT_NICE
// rlimNice, which allows nice values down to 20 - rlimNice
// (setrlimit(2)). Being root is not enough: a container's root usually
// lacks CAP_SYS_NICE. A thread that could not be put back would stay at
// the lower priority with its goroutine, and so would every later reload,
// with no bound on how long: without the right the reload keeps its
// priority.
func mayRaiseTo(nice int, capSysNice bool, rlimNice uint64) bool {
	return capSysNice || uint64(20-nice) <= rlimNice
}

// hasCapSysNice reports whether the calling thread's effective
// capabilities include CAP_SYS_NICE (capget(2)).
func hasCapSysNice() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: 64 bits in two words
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[unix.CAP_SYS_NICE/32].Effective&(1<<(unix.CAP_SYS_NICE%32)) != 0
}
