package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTargetsFromRatios: each target is judged from the per-round ratio
// of the scenarios it names, and a target whose scenarios did not run
// says so rather than passing.
func TestTargetsFromRatios(t *testing.T) {
	res := newResults()
	res.Rate = 1000
	closest10kMany := policyName("closest", 10000, ManySubnets)
	// Two rounds on a machine that got slower: the ratios hold.
	for round, scale := range []float64{1, 0.5} {
		res.add(nameWhoami, round, &Measurement{QPS: 50000 * scale}, nil)
		res.add(closest10kMany, round, &Measurement{QPS: 48000 * scale, Half: latencyStats{P99: 800 * time.Microsecond}}, nil)
		res.add(policyName("closest", 10, OneSubnet), round, &Measurement{QPS: 60000 * scale, Half: latencyStats{P99: 2 * time.Millisecond}}, nil)
	}
	got := map[string]target{}
	for _, tg := range targets(res) {
		got[tg.What] = tg
	}
	want := map[string]string{
		"closest, 10,000 relays, many subnets ≥ 0.95× whoami":                                   "yes",    // 0.96
		"closest, 10,000 relays, many subnets ≥ 0.9× closest, 10 relays, one subnet":            "**no**", // 0.80
		"closest, 10,000 relays, many subnets, a relay flapping ≥ 0.9× without":                 "not run",
		"seed-style A, 10 relays, many subnets ≥ 0.38× gdnsd":                                   "not run",
		"p99 at half of peak (1000/s) ≤ 1 ms, every amtrelay scenario":                          "**no**", // 2 ms at 10 relays
		"reload, 10,000 relays, 200,000-network database, at half of peak: no query over 10 ms": "not run",
		"≤ 10 allocations per ServeDNS":                                                         "not run",
	}
	for what, verdict := range want {
		if got[what].Met != verdict {
			t.Errorf("%q: %q (%s), want %q", what, got[what].Met, got[what].Figure, verdict)
		}
	}
	if f := got["closest, 10,000 relays, many subnets ≥ 0.95× whoami"].Figure; f != "0.96×" {
		t.Errorf("figure %q, want 0.96×", f)
	}
}

// TestFailedRoundsStayOutOfRatios: a round that failed for one scenario
// pairs no figure of another round with it.
func TestFailedRoundsStayOutOfRatios(t *testing.T) {
	res := newResults()
	res.add(nameWhoami, 0, &Measurement{QPS: 100}, nil)
	res.add(nameWhoami, 1, &Measurement{QPS: 10}, nil)
	res.add(nameStatic, 0, nil, os.ErrDeadlineExceeded)
	res.add(nameStatic, 1, &Measurement{QPS: 9}, nil)
	if r := res.ratio(nameStatic, nameWhoami); r < 0.899 || r > 0.901 {
		t.Errorf("ratio %v, want 0.9 (round 2 only)", r)
	}
	if s, _ := res.summary(nameStatic); s.Rounds != 1 {
		t.Errorf("%d rounds summarised, want the one that ran", s.Rounds)
	}
	if !strings.Contains(table(res), "1 rounds failed: round 1:") {
		t.Errorf("the table does not report the failed round:\n%s", table(res))
	}
}

// TestPlotNamesEachSeries: the SVG has a series for each policy and
// client spread that was measured, and the references.
func TestPlotNamesEachSeries(t *testing.T) {
	res := newResults()
	for _, n := range []int{10, 1000, 10000} {
		res.add(policyName("closest", n, OneSubnet), 0, &Measurement{QPS: 40000}, nil)
		res.add(policyName("closest", n, ManySubnets), 0, &Measurement{QPS: 30000}, nil)
	}
	res.add(nameWhoami, 0, &Measurement{QPS: 50000}, nil)
	path := filepath.Join(t.TempDir(), "qps.svg")
	if err := plotRelayCounts(res, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	for _, s := range []string{"<svg", "closest, one subnet", "closest, many subnets", nameWhoami} {
		if !strings.Contains(svg, s) {
			t.Errorf("the plot lacks %q", s)
		}
	}
	if strings.Contains(svg, "least-load") {
		t.Error("the plot has a series for least-load, which did not run")
	}
}

// TestAllocsTarget: the allocations target is judged from the plugin's
// benchmark output.
func TestAllocsTarget(t *testing.T) {
	out := "goos: linux\nBenchmarkServeDNSManySubnets/relays=10000/subnets=many/write=bytes-2   \t   20000\t      4212 ns/op\t     176 B/op\t       2 allocs/op\nPASS\n"
	for _, tc := range []struct {
		out  string
		want string
	}{
		{out, "yes"},
		{strings.Replace(out, "2 allocs/op", "25 allocs/op", 1), "**no**"},
	} {
		res := newResults()
		a, err := parseAllocs(tc.out)
		if err != nil {
			t.Fatal(err)
		}
		res.Allocs = a
		for _, tg := range targets(res) {
			if strings.HasPrefix(tg.What, "≤ 10 allocations") && tg.Met != tc.want {
				t.Errorf("%g allocations: %q (%s), want %q", a, tg.Met, tg.Figure, tc.want)
			}
		}
	}
	for _, other := range []string{"relays=10/subnets=many/write=bytes-2", "relays=10000/subnets=many/write=bytes-after-syscall-2", "relays=10000/subnets=one/write=bytes-2"} {
		if _, err := parseAllocs("BenchmarkServeDNSManySubnets/" + other + " 100 5 ns/op 0 B/op 0 allocs/op\n"); err == nil {
			t.Errorf("read the allocations of another benchmark, %s", other)
		}
	}
}
