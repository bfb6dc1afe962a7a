package e2e

import (
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// proc is a long-running program inside a namespace: a server, a relay.
type proc struct {
	name string
	ns   netns
	args []string
	out  *testenv.SyncBuffer
	done chan struct{}
	pid  int
	// stdin, when the program was started with one, feeds it.
	stdin io.WriteCloser
}

// pids records every process the test bed started, for the check at the
// end that none is left.
type pids struct {
	mu   sync.Mutex
	list []int
}

func (p *pids) add(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, pid)
}

// alive lists the recorded processes that still exist.
func (p *pids) alive() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, pid := range p.list {
		if syscall.Kill(pid, 0) == nil {
			out = append(out, pid)
		}
	}
	return out
}

// start runs args[0] with args[1:] inside ns until stop or the end of the
// test, with its output kept for the log of a failed test.
func (tb *testbed) start(t testing.TB, ns netns, name string, withStdin bool, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, ns: ns, args: args, out: &testenv.SyncBuffer{}, done: make(chan struct{})}
	cmd := ns.command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if withStdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdin = w
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s in %s: %v", name, ns, err)
	}
	p.pid = cmd.Process.Pid
	tb.pids.add(p.pid)
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s (%s) output, last lines:\n%s", name, ns, tail(p.out.String(), 25))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill ends the process at once, as a crash would.
func (p *proc) kill() {
	if !p.exited() {
		syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.done
	}
}

// restart starts the same program again, in place of p, for the rest of
// the test bed's life.
func (tb *testbed) restart(p *proc) *proc {
	p.kill()
	return tb.start(tb.top, p.ns, p.name, p.stdin != nil, p.args...)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
