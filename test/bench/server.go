package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// serverCPU and clientCPU are where the server and dnsperf run, as the
// old dnsperf.sh pinned them.
const (
	serverCPU = "0"
	clientCPU = "1"
)

// startupPatience bounds how long a server may take to become ready
// (-startup-timeout).
var startupPatience = 3 * time.Minute

// process is a running server, pinned to serverCPU.
type process struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	started time.Time
	done    chan struct{}
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProcess runs argv under taskset on serverCPU (taskset execs the
// program, so the process id is the server's own).
func startProcess(argv ...string) (*process, error) {
	p := &process{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("taskset", append([]string{"-c", serverCPU}, argv...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady waits until probe gets a good answer from the server (and,
// with readyURL, the ready plugin says 200), and returns the time since
// the process started.
func (p *process) waitReady(addr string, probe *dns.Msg, needAnswer bool, readyURL string) (time.Duration, error) {
	deadline := p.started.Add(startupPatience)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	var last error
	for time.Now().Before(deadline) {
		if p.exited() {
			return 0, fmt.Errorf("server exited during startup: %s", tail(p.out.String()))
		}
		last = checkAnswer(c, addr, probe, needAnswer)
		if last == nil && readyURL != "" {
			last = checkReady(readyURL)
		}
		if last == nil {
			return time.Since(p.started), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("server not ready within %v (-startup-timeout): %v; output: %s", startupPatience, last, tail(p.out.String()))
}

// checkAnswer sends probe to addr and wants NOERROR (and an answer record).
func checkAnswer(c *dns.Client, addr string, probe *dns.Msg, needAnswer bool) error {
	r, _, err := c.Exchange(probe, addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("probe %s: rcode %s", probe.Question[0].Name, dns.RcodeToString[r.Rcode])
	}
	if needAnswer && len(r.Answer) == 0 {
		return fmt.Errorf("probe %s: empty answer", probe.Question[0].Name)
	}
	return nil
}

func checkReady(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// cpuTicks is the process's user and system time, in clock ticks
// (proc(5): /proc/PID/stat fields 14 and 15), threads included.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	return u + st, nil
}

// clockTick is the length of a clock tick: USER_HZ is 100 on every Linux
// architecture Go supports (getconf CLK_TCK).
const clockTick = 10 * time.Millisecond

// rssBytes is the process's resident set (VmRSS in /proc/PID/status).
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// freePort returns a port free on 127.0.0.1 for UDP and TCP just now.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1")
}

// tail is the end of a process's output, for error messages.
func tail(s string) string {
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}
