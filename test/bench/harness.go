package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Harness runs scenarios against the built servers.
type Harness struct {
	In       *Inputs
	Dir      string // per-run files
	Warm     time.Duration
	Duration time.Duration
	seq      int
}

// Measurement is one scenario's figures in one round.
type Measurement struct {
	Startup     time.Duration
	QPS         float64 // at saturation
	Sat         latencyStats
	HalfQPS     float64 // achieved at the half-of-peak rate
	Half        latencyStats
	CPUPerQuery time.Duration // server CPU time per answered query, at saturation
	CPUBusy     float64       // the server's CPU time over the saturation run's wall time: near 1 unless something else had its CPU
	RSS         int64         // after the saturation run
	Reload      time.Duration // SIGUSR1 to the first answer of the new configuration
	Flips       int64         // load changes the flapper made during the timed runs
	Scrapes     int64         // and the pages the plugin read
}

// server is a started scenario.
type server struct {
	p          *process
	port       int
	corefile   string // CoreDNS scenarios: the Corefile, rewritten at reload
	opts       coreOpts
	flap       *flapper
	probe      *dns.Msg
	needAnswer bool
	readyURL   string
}

// start writes a scenario's configuration and starts its server.
func (h *Harness) start(s Scenario) (*server, error) {
	h.seq++
	dir := filepath.Join(h.Dir, fmt.Sprintf("%02d", h.seq))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	sv := &server{port: port, needAnswer: s.Plugin != "whoami"}
	if sv.probe, err = firstQuery(h.In.Queries[s.Queries]); err != nil {
		return nil, err
	}
	w := h.In.World
	switch s.Kind {
	case StockCoreDNS, AmtrelayCoreDNS:
		rp, err := freePort()
		if err != nil {
			return nil, err
		}
		sv.opts = coreOpts{Port: port, ReadyPort: rp, DB: h.In.DB, Zone: h.In.Zone, TTL: 30}
		if s.Flap {
			if sv.flap, err = startFlapper(); err != nil {
				return nil, err
			}
			sv.opts.FlapURL = sv.flap.URL
		}
		sv.corefile = filepath.Join(dir, "Corefile")
		if err := writeAtomic(sv.corefile, w.corefile(s, sv.opts)); err != nil {
			return nil, err
		}
		sv.readyURL = fmt.Sprintf("http://127.0.0.1:%d/ready", rp)
		bin := h.In.CoreDNS
		if s.Kind == StockCoreDNS {
			bin = h.In.Stock
		}
		sv.p, err = startProcess(bin, "-conf", sv.corefile, "-quiet")
	case Gdnsd:
		if err := writeGdnsd(dir, h.In.DB, port, w.Relays[:s.Relays]); err != nil {
			return nil, err
		}
		sv.p, err = startProcess(sbin("gdnsd"), "-c", dir, "start")
	case PowerDNS:
		if err := writePdns(dir, h.In.DB, port, w.Relays[:s.Relays]); err != nil {
			return nil, err
		}
		sv.p, err = startProcess(sbin("pdns_server"), "--config-dir="+dir)
	}
	if err != nil {
		sv.close()
		return nil, err
	}
	return sv, nil
}

func (sv *server) addr() string { return "127.0.0.1:" + strconv.Itoa(sv.port) }

func (sv *server) close() {
	if sv.p != nil {
		sv.p.stop()
	}
	if sv.flap != nil {
		sv.flap.Close()
	}
}

// measure runs one scenario: start, ready, warm, then timed at saturation
// (unless rate-only) and at rate.
func (h *Harness) measure(s Scenario, rate int, saturationOnly bool) (*Measurement, error) {
	sv, err := h.start(s)
	if err != nil {
		return nil, err
	}
	defer sv.close()
	m := &Measurement{}
	if m.Startup, err = sv.p.waitReady(sv.addr(), sv.probe, sv.needAnswer, sv.readyURL); err != nil {
		return nil, err
	}
	file := h.In.Queries[s.Queries]
	out := func(what string) string { return filepath.Join(h.Dir, fmt.Sprintf("%02d-%s.dnsperf", h.seq, what)) }
	warm, err := runDnsperf(perfRun{Port: sv.port, File: file, Duration: h.Warm, Out: out("warm")})
	if err == nil {
		err = warm.check(false)
	}
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	flips0, scrapes0 := sv.flapCounts()
	if !s.Reload {
		t0, err := cpuTicks(sv.p.pid())
		if err != nil {
			return nil, err
		}
		wall0 := time.Now()
		sat, err := runDnsperf(perfRun{Port: sv.port, File: file, Duration: h.Duration, Out: out("saturation")})
		if err == nil {
			err = sat.check(false)
		}
		if err != nil {
			return nil, fmt.Errorf("saturation: %w", err)
		}
		t1, err := cpuTicks(sv.p.pid())
		if err != nil {
			return nil, err
		}
		m.CPUBusy = float64(time.Duration(t1-t0)*clockTick) / float64(time.Since(wall0))
		m.QPS, m.Sat.Mean = sat.QPS, sat.AvgLatency
		m.CPUPerQuery = time.Duration(t1-t0) * clockTick / time.Duration(sat.Completed)
		if m.RSS, err = rssBytes(sv.p.pid()); err != nil {
			return nil, err
		}
		// dnsperf -v costs dnsperf about a third of its top rate, which
		// fast servers reach: QPS comes from the run above, the p99 at
		// saturation from a run of its own.
		if !saturationOnly {
			satv, err := runDnsperf(perfRun{Port: sv.port, File: file, Duration: h.Duration, Verbose: true, Out: out("saturation-v")})
			if err == nil {
				err = satv.check(true)
			}
			if err != nil {
				return nil, fmt.Errorf("saturation, dnsperf -v: %w", err)
			}
			m.Sat.P99, m.Sat.Max = satv.latency().P99, satv.latency().Max
		}
	}
	if !saturationOnly {
		reloaded := make(chan reloadResult, 1)
		runLen := h.Duration
		if s.Reload {
			runLen = max(runLen, reloadRunMin)
			go func() { reloaded <- h.reloadDuring(s, sv, runLen) }()
		}
		runEnd := time.Now().Add(runLen)
		half, err := runDnsperf(perfRun{Port: sv.port, File: file, Duration: runLen, Rate: rate, Verbose: true, Out: out("half")})
		if err == nil {
			err = half.check(true)
		}
		if err != nil {
			return nil, fmt.Errorf("at %d queries/s: %w", rate, err)
		}
		m.HalfQPS, m.Half = half.QPS, half.latency()
		if s.Reload {
			r := <-reloaded
			if r.err != nil {
				return nil, fmt.Errorf("reload: %w", r.err)
			}
			if r.done.After(runEnd) {
				return nil, fmt.Errorf("the reload took %v and outlasted the timed run: raise -duration", r.took.Round(time.Millisecond))
			}
			m.Reload = r.took
		}
	}
	flips1, scrapes1 := sv.flapCounts()
	m.Flips, m.Scrapes = flips1-flips0, scrapes1-scrapes0
	if s.Flap && m.Scrapes == 0 {
		return nil, fmt.Errorf("the plugin never read the flapping relay's load from %s", sv.flap.URL)
	}
	if sv.p.exited() {
		return nil, fmt.Errorf("server exited: %s", tail(sv.p.out.String()))
	}
	return m, nil
}

func (sv *server) flapCounts() (int64, int64) {
	if sv.flap == nil {
		return 0, 0
	}
	return sv.flap.flips.Load(), sv.flap.scrapes.Load()
}

// reloadRunMin is the shortest timed run of the reload scenario, so that
// a reload of 10,000 relays and the database ends inside it.
const reloadRunMin = 10 * time.Second

// reloadPatience bounds the wait for a reload to show.
const reloadPatience = time.Minute

type reloadResult struct {
	took time.Duration
	done time.Time
	err  error
}

// reloadDuring waits a third of the run, then changes the Corefile (the
// TTL, 30 to 31: a change every answer shows), replacing it atomically,
// and sends SIGUSR1; the reload is done when an answer carries the new
// TTL.
func (h *Harness) reloadDuring(s Scenario, sv *server, runLen time.Duration) reloadResult {
	time.Sleep(runLen / 3)
	opts := sv.opts
	opts.TTL = 31
	if err := writeAtomic(sv.corefile, h.In.World.corefile(s, opts)); err != nil {
		return reloadResult{err: err}
	}
	start := time.Now()
	if err := sv.p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return reloadResult{err: err}
	}
	probe := sv.probe
	if s.Hosts > 0 { // whoami's answers carry no TTL; the hosts entries' do
		probe = new(dns.Msg).SetQuestion(hostsName(0), dns.TypeA)
	}
	c := &dns.Client{Timeout: 100 * time.Millisecond}
	for time.Since(start) < reloadPatience {
		if r, _, err := c.Exchange(probe, sv.addr()); err == nil && len(r.Answer) > 0 && r.Answer[0].Header().Ttl == 31 {
			return reloadResult{took: time.Since(start), done: time.Now()}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return reloadResult{err: fmt.Errorf("no answer with the new configuration's TTL within %v of SIGUSR1; output: %s", reloadPatience, tail(sv.p.out.String()))}
}

// firstQuery reads the first message of a dnsperf -B file.
func firstQuery(path string) (*dns.Msg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var l [2]byte
	if _, err := io.ReadFull(f, l[:]); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf); err != nil {
		return nil, fmt.Errorf("%s: first message: %w", path, err)
	}
	return m, nil
}

// writeAtomic replaces path with content by a rename, so that a reload
// never reads a half-written file.
func writeAtomic(path, content string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sbin finds a Debian server program, which lives in /usr/sbin.
func sbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	log.Printf("%s not found in PATH or /usr/sbin", name)
	return name
}
