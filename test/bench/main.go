// Command bench is issue 13's harness: it measures the amtrelay CoreDNS
// plugin with dnsperf beside stock CoreDNS, gdnsd and PowerDNS, in one
// interleaved run, on inputs it makes itself, and writes README.md with
// the figures and a plot. See README.md.
//
//	cd test/bench && go run . [-rounds 3] [-duration 10s] [-quick]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

func main() {
	log.SetFlags(log.Ltime)
	if err := run(os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	rounds := fs.Int("rounds", 3, "rounds: every scenario once per round, interleaved")
	duration := fs.Duration("duration", 10*time.Second, "each timed dnsperf run")
	warm := fs.Duration("warm", 3*time.Second, "the warm-up run before timing")
	quick := fs.Bool("quick", false, "a check of the harness: 1 round of 2 s, of a few scenarios unless -run picks others")
	only := fs.String("run", "", "run only the scenarios whose name matches `REGEXP` (of all, also with -quick)")
	defaultRepo := os.Getenv("AMTRELAY_REPO")
	if defaultRepo == "" {
		defaultRepo = "../.."
	}
	repo := fs.String("repo", defaultRepo, "the amtrelay checkout to build and measure (default $AMTRELAY_REPO, else ../..)")
	work := fs.String("work", filepath.Join(os.TempDir(), "amtrelay-bench"), "where inputs, builds and dnsperf outputs go")
	rate := fs.Int("rate", 0, "the half-of-peak rate in queries/s (default: half of amtrelay static's saturation QPS, measured first)")
	out := fs.String("out", "README.md", "the README to write; the plot goes beside it as qps.svg")
	seed := fs.Uint64("seed", 1, "the seed of every generated input")
	fs.DurationVar(&startupPatience, "startup-timeout", startupPatience, "how long a server may take to start and become ready")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if *quick {
		if !explicit["rounds"] {
			*rounds = 1
		}
		if !explicit["duration"] {
			*duration = 2 * time.Second
		}
		if !explicit["warm"] {
			*warm = time.Second
		}
	}
	if *rounds < 1 || *duration < time.Second || *warm < 0 {
		return fmt.Errorf("want -rounds ≥ 1 and -duration ≥ 1s")
	}
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("%d CPU: the harness pins the server to CPU %s and dnsperf to CPU %s, so it needs two", runtime.NumCPU(), serverCPU, clientCPU)
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	var selected []Scenario
	for _, s := range Scenarios() {
		// -run picks from every scenario; -quick alone runs its set.
		if filter != nil && filter.MatchString(s.Name) || filter == nil && (!*quick || s.Quick) {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		return fmt.Errorf("no scenario matches -run %q", *only)
	}
	if err := ensurePackages(requiredPackages(selected)); err != nil {
		return err
	}
	repoAbs, err := filepath.Abs(*repo)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repoAbs, "cmd", "coredns")); err != nil {
		return fmt.Errorf("-repo %s: not an amtrelay checkout (no cmd/coredns)", repoAbs)
	}
	started := time.Now()
	// Inputs: every query file the selected scenarios (and the peers'
	// check and the calibration) use.
	files := map[QueryFile]bool{{SourceNames, ManySubnets}: true, {SeedNames, ManySubnets}: true}
	for _, s := range selected {
		files[s.Queries] = true
	}
	var fileList []QueryFile
	for q := range files {
		fileList = append(fileList, q)
	}
	in, err := prepareInputs(*work, repoAbs, DefaultSizes, *seed, fileList)
	if err != nil {
		return err
	}
	runDir := filepath.Join(*work, "run-"+started.Format("20060102-150405"))
	h := &Harness{In: in, Dir: runDir, Warm: *warm, Duration: *duration}
	all := map[string]Scenario{}
	for _, s := range Scenarios() {
		all[s.Name] = s
	}
	info := RunInfo{
		Command: "cd test/bench && go run . " + strings.Join(args, " "), Started: started, Machine: describeMachine(),
		Repo: repoAbs + " at " + in.RepoRev, Rounds: *rounds, Duration: *duration, Warm: *warm, Quick: *quick, Sizes: DefaultSizes,
	}
	// Agreement of the peers with amtrelay, before any of them is timed.
	var peers []Scenario
	for _, s := range selected {
		if s.Kind == Gdnsd || s.Kind == PowerDNS {
			peers = append(peers, s)
		}
	}
	if len(peers) > 0 {
		log.Printf("checking that amtrelay, gdnsd and PowerDNS agree on the nearest relay...")
		if info.Agreement, err = h.checkAgreement(append([]Scenario{all[nameSeed10]}, peers...)); err != nil {
			return err
		}
	}
	res := newResults()
	res.Rate = *rate
	info.RateFrom = "given with -rate"
	if res.Rate == 0 {
		log.Printf("calibrating: amtrelay static at saturation, for the half-of-peak rate...")
		m, err := h.measure(all[nameStatic], 0, true)
		if err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
		res.Rate = int(m.QPS / 2)
		info.RateFrom = fmt.Sprintf("half of amtrelay static's %.0f queries/s in a calibration run", m.QPS)
	}
	log.Printf("half-of-peak rate: %d queries/s", res.Rate)
	for round := range *rounds {
		for i, s := range selected {
			log.Printf("round %d/%d, %d/%d: %s", round+1, *rounds, i+1, len(selected), s.Name)
			m, err := h.measure(s, res.Rate, false)
			res.add(s.Name, round, m, err)
			if err != nil {
				log.Printf("  FAILED: %v", err)
				continue
			}
			log.Printf("  %.0f q/s, p99 %s at saturation, p99 %s at %d/s, %.1f µs CPU a query, startup %.2f s",
				m.QPS, fmtDur(m.Sat.P99), fmtDur(m.Half.P99), res.Rate, float64(m.CPUPerQuery)/1e3, m.Startup.Seconds())
		}
	}
	log.Printf("allocations per ServeDNS: %s in %s...", allocsBenchmark, repoAbs)
	if a, err := serveDNSAllocs(repoAbs); err != nil {
		log.Printf("  FAILED: %v", err)
	} else {
		res.Allocs = a
	}
	info.Took = time.Since(started)
	fmt.Println()
	fmt.Print(targetTable(targets(res)))
	fmt.Println()
	fmt.Print(table(res))
	plot := filepath.Join(filepath.Dir(*out), "qps.svg")
	if err := plotRelayCounts(res, plot); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := writeReadme(*out, filepath.Base(plot), info, res); err != nil {
		return err
	}
	log.Printf("wrote %s and %s; dnsperf outputs in %s", *out, plot, runDir)
	return nil
}
