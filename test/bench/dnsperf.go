package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dnsperf's load: 4 clients (sockets), 200 queries outstanding, as the
// old dnsperf.sh ran it.
const (
	perfClients     = "4"
	perfOutstanding = "200"
)

// perfRun is one dnsperf run's request.
type perfRun struct {
	Port     int
	File     string
	Duration time.Duration
	Rate     int  // -Q, 0 for none: saturation
	Verbose  bool // -v: one line a query, with its latency
	Out      string
}

// perfResult is what dnsperf reported.
type perfResult struct {
	Sent, Completed, Lost int64
	QPS                   float64
	AvgLatency            time.Duration
	Rcodes                map[string]int64
	// Latencies of each answered query, in seconds, with -v.
	Latencies []float64
	// Report is dnsperf's output without the per-query lines.
	Report string
}

// runDnsperf runs dnsperf pinned to clientCPU and reads its report.
func runDnsperf(r perfRun) (*perfResult, error) {
	args := []string{"-c", clientCPU, "dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(r.Port), "-B", "-d", r.File,
		"-l", strconv.FormatFloat(r.Duration.Seconds(), 'f', -1, 64), "-c", perfClients, "-q", perfOutstanding}
	if r.Rate > 0 {
		args = append(args, "-Q", strconv.Itoa(r.Rate))
	}
	if r.Verbose {
		args = append(args, "-v")
	}
	out, err := os.Create(r.Out)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command("taskset", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dnsperf %s: %v (output in %s)", strings.Join(args[2:], " "), err, r.Out)
	}
	res, err := parseDnsperf(r.Out)
	if err != nil {
		return nil, err
	}
	if r.Verbose { // keep the report, not a line per query
		if err := os.WriteFile(r.Out, []byte(res.Report), 0o644); err != nil {
			return nil, err
		}
	}
	return res, nil
}

var (
	reSent      = regexp.MustCompile(`Queries sent:\s+(\d+)`)
	reCompleted = regexp.MustCompile(`Queries completed:\s+(\d+)`)
	reLost      = regexp.MustCompile(`Queries lost:\s+(\d+)`)
	reQPS       = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reAvg       = regexp.MustCompile(`Average Latency \(s\):\s+([0-9.]+)`)
	reRcodes    = regexp.MustCompile(`Response codes:\s+(.*)`)
	reRcode     = regexp.MustCompile(`([A-Z0-9]+) (\d+) \(`)
)

// parseDnsperf reads dnsperf 2.10's output: the statistics block and,
// with -v, the per-query lines "> RCODE description LATENCY".
func parseDnsperf(path string) (*perfResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &perfResult{Rcodes: map[string]int64{}}
	var stats strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "> ") {
			fields := strings.Fields(line)
			if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
				res.Latencies = append(res.Latencies, v)
			}
			continue
		}
		stats.WriteString(line)
		stats.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	s := stats.String()
	res.Report = s
	ints := []struct {
		re *regexp.Regexp
		to *int64
	}{{reSent, &res.Sent}, {reCompleted, &res.Completed}, {reLost, &res.Lost}}
	for _, x := range ints {
		m := x.re.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("%s: no %q in dnsperf's report", path, x.re.String())
		}
		*x.to, _ = strconv.ParseInt(m[1], 10, 64)
	}
	m := reQPS.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("%s: no queries per second in dnsperf's report", path)
	}
	res.QPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reAvg.FindStringSubmatch(s); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		res.AvgLatency = seconds(v)
	}
	if m := reRcodes.FindStringSubmatch(s); m != nil {
		for _, rc := range reRcode.FindAllStringSubmatch(m[1], -1) {
			res.Rcodes[rc[1]], _ = strconv.ParseInt(rc[2], 10, 64)
		}
	}
	return res, nil
}

// check refuses a run that measured nothing, or mostly errors: a server
// that answers REFUSED fast must not look fast.
func (r *perfResult) check(verbose bool) error {
	if r.Completed == 0 {
		return fmt.Errorf("no query completed (%d sent)", r.Sent)
	}
	if ok := r.Rcodes["NOERROR"]; float64(ok) < 0.99*float64(r.Completed) {
		return fmt.Errorf("only %d of %d answers NOERROR: %v", ok, r.Completed, r.Rcodes)
	}
	if verbose && int64(len(r.Latencies)) < r.Completed*9/10 {
		return fmt.Errorf("dnsperf -v printed %d latencies for %d answers", len(r.Latencies), r.Completed)
	}
	return nil
}

// latencyStats summarises a run's latencies: lost queries count as
// slower than any answered one.
type latencyStats struct {
	Mean, P99, Max time.Duration
	Over10ms       int64 // answered later than 10 ms, or lost
}

func (r *perfResult) latency() latencyStats {
	var st latencyStats
	if len(r.Latencies) == 0 {
		return st
	}
	l := slices.Clone(r.Latencies)
	slices.Sort(l)
	sum := 0.0
	for _, v := range l {
		sum += v
		if v > 0.010 {
			st.Over10ms++
		}
	}
	st.Over10ms += r.Lost
	st.Mean = seconds(sum / float64(len(l)))
	st.Max = seconds(l[len(l)-1])
	n := len(l) + int(r.Lost)
	i := int(math.Ceil(0.99*float64(n))) - 1
	if i >= len(l) {
		st.P99 = time.Duration(math.MaxInt64) // lost queries reach the 99th percentile
	} else {
		st.P99 = seconds(l[i])
	}
	if r.Lost > 0 {
		st.Max = time.Duration(math.MaxInt64)
	}
	return st
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
