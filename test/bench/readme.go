package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// RunInfo is what the README says about a run besides its figures.
type RunInfo struct {
	Command   string
	Started   time.Time
	Took      time.Duration
	Machine   Machine
	Repo      string
	Rounds    int
	Duration  time.Duration
	Warm      time.Duration
	Quick     bool
	Sizes     Sizes
	Agreement *Agreement
	RateFrom  string
}

// writeReadme writes the README with the run's figures; plot is the SVG's
// file name beside it.
func writeReadme(path, plot string, info RunInfo, res *Results) error {
	var b strings.Builder
	b.WriteString(readmeIntro)
	fmt.Fprintf(&b, "\n## The last run\n\n")
	if info.Quick {
		b.WriteString("**A `-quick` run (one round, short, a few scenarios): a check that the harness works, not figures to quote.**\n\n")
	}
	fmt.Fprintf(&b, "    %s\n\n", info.Command)
	fmt.Fprintf(&b, "* When: %s, %s in all; %d round(s), each server warmed %v then timed %v at saturation and %v at %d queries/s (%s).\n",
		info.Started.UTC().Format("2006-01-02 15:04 UTC"), info.Took.Round(time.Second), info.Rounds, info.Warm, info.Duration, info.Duration, res.Rate, info.RateFrom)
	fmt.Fprintf(&b, "* Machine: %s, %d CPUs (`nproc`), %s, %s; %s.\n", info.Machine.CPU, info.Machine.CPUs, info.Machine.Kernel, info.Machine.Go, strings.Join(info.Machine.Versions, ", "))
	fmt.Fprintf(&b, "* Measured checkout: %s.\n", info.Repo)
	fmt.Fprintf(&b, "* Inputs: a City database of %d IPv4 /24 and %d IPv6 /48 networks over %d locations; %d distinct ECS subnets (%d IPv4 /24, %d IPv6 /56), each once per pass of a query file.\n",
		info.Sizes.Networks4, info.Sizes.Networks6, info.Sizes.Locations, info.Sizes.Clients4+info.Sizes.Clients6, info.Sizes.Clients4, info.Sizes.Clients6)
	if a := info.Agreement; a != nil {
		fmt.Fprintf(&b, "* Agreement before timing: on %d clients whose nearest relay is the same by great-circle and by PowerDNS's planar distance (%d others skipped), the first A record of each server equals that relay: %s.\n",
			a.Clients, a.Skipped, agreementLine(a))
	}
	b.WriteString("\n### Targets (issue 13)\n\n")
	b.WriteString(targetTable(targets(res)))
	b.WriteString("\n### Every server\n\nMedians over the rounds; each ratio is the median of the per-round ratios. Latencies are per query, from `dnsperf -v`; a lost query counts as slower than any answer.\n\n")
	b.WriteString(table(res))
	fmt.Fprintf(&b, "\n![queries/s against relay count](%s)\n", plot)
	b.WriteString(readmeMethod)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func agreementLine(a *Agreement) string {
	var parts []string
	for _, name := range []string{nameSeed10, nameGdnsd, namePdns} {
		if n, ok := a.Match[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %d/%d", strings.SplitN(name, ",", 2)[0], n, a.Clients))
		}
	}
	return strings.Join(parts, ", ")
}

const readmeIntro = `# test/bench

Benchmarks of this repository, in their own Go module (so that the plotting library never enters the
plugin's dependencies):

* this directory's harness: the *amtrelay* plugin with dnsperf, side by side with stock CoreDNS,
  gdnsd and PowerDNS, in one interleaved run (issue 13);
* ` + "`gateway/`" + `: Go benchmarks of the gatewayresolver race (see gatewayresolver/README.md),
  ` + "`cd test/bench && go test -run '^$' -bench . -benchtime 20x ./gateway/`" + `;
* ` + "`instructions.sh`" + `: instructions per ServeDNS call, per policy, at 10 and 10,000 relays, counted by
  valgrind's callgrind in BenchmarkServeDNS's measured loop (repeatable where wall time is not);
* ` + "`misses.sh`" + `: instructions and simulated first- and last-level cache misses per ServeDNS call,
  closest at 10 and 10,000 relays with 100,000 client subnets, by callgrind's cache simulation
  (` + "`LL=1048576`" + ` for a 1 MB last level).

## Running the harness

    cd test/bench && go run . [-rounds 3] [-duration 10s] [-quick] [-run REGEXP] [-repo DIR] [-rate N]

on Debian, as root or with the packages already there (it installs ` + "`dnsperf gdnsd pdns-server\npdns-backend-geoip pdns-backend-bind`" + ` with apt-get when they are missing and it is root), with at least
two CPUs. It:

1. makes its inputs in ` + "`-work`" + ` (default ` + "`$TMPDIR/amtrelay-bench`" + `; kept for the next run with the same
   sizes and seed): a City database written with mmdbwriter (` + "`internal/geotest`" + `), and dnsperf ` + "`-B`" + `
   query files, one query per message, each with its own ECS option, the same subnets for every server;
2. builds ` + "`cmd/coredns`" + ` and stock CoreDNS (` + "`go build github.com/coredns/coredns`" + `, the version the
   repository pins) from the checkout it sits in, or from ` + "`-repo DIR`" + ` (or ` + "`$AMTRELAY_REPO`" + `), so that
   two builds can be compared;
3. checks that amtrelay, gdnsd and PowerDNS agree on the nearest relay before timing them;
4. measures the half-of-peak rate: half the saturation QPS of amtrelay static (or ` + "`-rate N`" + `: give the
   same rate to runs you compare);
5. runs the rounds: each scenario in turn, started, ready, warmed, timed at saturation and at the
   half-of-peak rate, stopped;
6. prints the tables and writes this README and ` + "`qps.svg`" + ` (` + "`-out`" + `).

` + "`-quick`" + ` is one round of 2 s, of a few scenarios: for checking the harness, not for figures. Quote
ratios, not queries per second: the machine is shared and noisy.
`

const readmeMethod = `
## How it measures

* **Pinning.** Each server runs on CPU 0, dnsperf on CPU 1 (` + "`taskset`" + `), over 127.0.0.1; one server at
  a time. dnsperf: 4 clients, 200 queries outstanding (` + "`-c 4 -q 200`" + `), ` + "`-B`" + ` input.
* **Inputs.** A seeded world: locations uniform on the sphere, networks given to locations in runs
  of 1 to 7 adjacent networks (real databases place neighbours together), relays at random places
  on their own /24s in 100.64.0.0/10. The database also places the first 10 relays, for PowerDNS.
  Source prefixes for the many-prefix scenarios are consecutive /26s from 10.0.0.0; their queries
  ask for random addresses across all of them.
* **Servers.** CoreDNS *whoami* and *file* (the static relays at each of the 256 names) are stock
  CoreDNS; amtrelay is ` + "`cmd/coredns`" + `, with static loads on every relay so that least-load and
  spill-over have something to rank by. gdnsd answers from its geoip plugin (the relays as
  datacenters with ` + "`auto_dc_coords`" + `), PowerDNS from a LUA record ` + "`pickclosest()`" + ` (bind and geoip
  backends, ` + "`edns-subnet-processing`" + `). Both answer ` + "`amt.N.100.51.198.in-addr.arpa A`" + `, so they are
  compared with amtrelay's seed-style ` + "`amt.`" + ` answer.
* **Order.** Each round runs every scenario once, in the table's order, the pairs that the ratio
  targets compare first and side by side (the machine's speed changes from one minute to the next,
  and a cache-missing server suffers more from a neighbour's load than *whoami*), so that a change in the
  machine's load touches all servers alike; ratios are taken within a round.
* **Ready and warm.** A server is timed only after it answered a probe (and, for CoreDNS, its *ready*
  plugin said 200), and after a warm-up run of dnsperf with the same queries. Startup is the time from
  exec to ready.
* **Checks.** A run with no completed query, or under 99% NOERROR, fails rather than counting (a fast
  REFUSED is not a fast answer).
* **Latency.** ` + "`dnsperf -v`" + ` prints each query's latency (Debian's dnsperf 2.10 prints no percentiles);
  the harness takes the p99 and maximum, lost queries counting as slowest. Printing a line a query
  costs dnsperf about a third of its top rate (about 80,000 instead of 120,000 queries/s here),
  which fast servers reach, so at saturation QPS, CPU and the mean latency come from a run without
  ` + "`-v`" + ` and the p99 from a second run with it. At the half-of-peak rate (` + "`-Q`" + `) one run with ` + "`-v`" + `
  gives all.
* **CPU and memory.** Server CPU per query is the user+system time of the server's process
  (` + "`/proc/PID/stat`" + `, threads included) over the saturation run, divided by the answered queries; RSS
  is ` + "`VmRSS`" + ` after that run. "Server CPU busy" is that CPU time over the run's wall time: a server
  at saturation should be near 100% of its one CPU; well under it, something else had the CPU
  (the machine is shared) or the server waits on something, and its QPS is not its own limit.
* **A relay that flaps.** One relay's load comes from a metrics page the harness serves
  (` + "`load { scrape }`" + `, read every second); it changes between 10% and 95% every second.
* **Reload.** At the half-of-peak rate, a third into the run, the Corefile is replaced (atomically,
  with a new TTL) and CoreDNS gets SIGUSR1; the reload time runs to the first answer with the new
  TTL, and every query of the run must come back within 10 ms. Stock CoreDNS is reloaded the same
  way with a Corefile as large (*whoami* behind a 60,000-line *hosts* block, as many tokens as
  10,000 relays; the entries' TTL changes): what reading such a Corefile costs the framework itself.
  On one CPU the Go scheduler has one P, polls the network only when it is idle or every 10 ms,
  and caddy parses the Corefile without blocking: queries that arrive meanwhile wait. The plugin
  gives a reload one P more and runs it at nice 19 (` + "`plugin/amtrelay/reloadboost.go`" + `); stock
  CoreDNS has neither.
`
