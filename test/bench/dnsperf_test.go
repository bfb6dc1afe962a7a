package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestParseDnsperf reads dnsperf 2.10's -v output (the layout of a real
// run, cut short): the counts, the rates and one latency per answer, a
// lost query counting as slowest.
func TestParseDnsperf(t *testing.T) {
	r, err := parseDnsperf("testdata/dnsperf-v.txt")
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 6 || r.Completed != 5 || r.Lost != 1 || r.Rcodes["NOERROR"] != 5 || math.Abs(r.QPS-4.990355) > 1e-6 {
		t.Errorf("parsed %+v", r)
	}
	if r.AvgLatency != 4577*time.Microsecond {
		t.Errorf("average latency %v, want dnsperf's 0.004577 s", r.AvgLatency)
	}
	if len(r.Latencies) != 5 {
		t.Fatalf("%d latencies, want 5", len(r.Latencies))
	}
	if err := r.check(true); err != nil {
		t.Errorf("check: %v", err)
	}
	st := r.latency()
	if st.Mean.Round(time.Microsecond) != 4577*time.Microsecond || st.Over10ms != 2 {
		t.Errorf("mean %v, over 10 ms %d: want 4.577ms and 2 (one slow, one lost)", st.Mean, st.Over10ms)
	}
	if st.P99 != time.Duration(math.MaxInt64) || st.Max != time.Duration(math.MaxInt64) {
		t.Errorf("p99 %v, max %v: with one of six lost, both are the lost query", st.P99, st.Max)
	}
}

// TestCheckRefusesEmptyRuns: a run that completed nothing, or answered
// mostly errors, is refused rather than reported as fast.
func TestCheckRefusesEmptyRuns(t *testing.T) {
	for _, r := range []*perfResult{
		{Sent: 100, Completed: 0, Rcodes: map[string]int64{}},
		{Sent: 100, Completed: 100, Rcodes: map[string]int64{"NOERROR": 50, "REFUSED": 50}},
		{Sent: 100, Completed: 100, Rcodes: map[string]int64{"NOERROR": 100}, Latencies: []float64{0.001}},
	} {
		if err := r.check(true); err == nil {
			t.Errorf("%+v passed the check", r)
		}
	}
}

// TestParseDnsperfRejectsOtherOutput: output without dnsperf's statistics
// (a crash, a usage message) is an error, not zero queries per second.
func TestParseDnsperfRejectsOtherOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, []byte("Error: could not open /nonexistent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := parseDnsperf(path); err == nil {
		t.Errorf("parsed %+v from output that has no statistics", r)
	}
}
