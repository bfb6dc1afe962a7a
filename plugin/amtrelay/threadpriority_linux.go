package amtrelay

import "golang.org/x/sys/unix"

// reloadNice is the nice value of a reloading thread. Nice 19 and 10
// held about as few queries back at half of peak (test/bench's reload
// scenario); at saturation a thread at 19 gets a 68th of the CPU, at 10 a
// tenth.
const reloadNice = 10

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
	if old >= reloadNice || unix.Setpriority(unix.PRIO_PROCESS, tid, reloadNice) != nil {
		return nil
	}
	return func() bool { return unix.Setpriority(unix.PRIO_PROCESS, tid, old) == nil }
}
