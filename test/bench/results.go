package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Results are every round's measurements, by scenario name, in the order
// the scenarios ran.
type Results struct {
	Order  []string
	Rounds map[string][]*Measurement // nil where a round failed
	Errors map[string][]string
	Rate   int // the half-of-peak rate, queries/s
	// Allocs is allocations per ServeDNS by the plugin's Go benchmark
	// (allocs.go), NaN when it did not run.
	Allocs float64
}

func newResults() *Results {
	return &Results{Rounds: map[string][]*Measurement{}, Errors: map[string][]string{}, Allocs: math.NaN()}
}

// add records round's measurement of name, or its error.
func (r *Results) add(name string, round int, m *Measurement, err error) {
	if _, ok := r.Rounds[name]; !ok {
		r.Order = append(r.Order, name)
	}
	for len(r.Rounds[name]) <= round {
		r.Rounds[name] = append(r.Rounds[name], nil)
	}
	if err != nil {
		r.Errors[name] = append(r.Errors[name], fmt.Sprintf("round %d: %v", round+1, err))
		return
	}
	r.Rounds[name][round] = m
}

// measured is name's rounds that did not fail.
func (r *Results) measured(name string) []*Measurement {
	var out []*Measurement
	for _, m := range r.Rounds[name] {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// Summary is one scenario's medians over its rounds.
type Summary struct {
	Rounds           int
	QPS, HalfQPS     float64
	Sat, Half        latencyStats
	CPUPerQuery      time.Duration
	CPUBusy          float64
	RSS              int64
	Startup, Reload  time.Duration
	Flips, Scrapes   int64
	VsWhoami, VsFile float64 // medians of the per-round ratios of QPS
}

// summary is the medians of name's rounds (the worst round for the count
// of queries over 10 ms and the maximum latency); ok is false when none
// ran.
func (r *Results) summary(name string) (Summary, bool) {
	ms := r.measured(name)
	if len(ms) == 0 {
		return Summary{}, false
	}
	f := func(get func(*Measurement) float64) float64 {
		v := make([]float64, len(ms))
		for i, m := range ms {
			v[i] = get(m)
		}
		return median(v)
	}
	d := func(get func(*Measurement) time.Duration) time.Duration {
		v := f(func(m *Measurement) float64 { return float64(get(m)) })
		if v >= math.MaxInt64 {
			return time.Duration(math.MaxInt64) // lost queries
		}
		return time.Duration(v)
	}
	s := Summary{
		Rounds:      len(ms),
		QPS:         f(func(m *Measurement) float64 { return m.QPS }),
		HalfQPS:     f(func(m *Measurement) float64 { return m.HalfQPS }),
		CPUPerQuery: d(func(m *Measurement) time.Duration { return m.CPUPerQuery }),
		CPUBusy:     f(func(m *Measurement) float64 { return m.CPUBusy }),
		RSS:         int64(f(func(m *Measurement) float64 { return float64(m.RSS) })),
		Startup:     d(func(m *Measurement) time.Duration { return m.Startup }),
		Reload:      d(func(m *Measurement) time.Duration { return m.Reload }),
		Flips:       int64(f(func(m *Measurement) float64 { return float64(m.Flips) })),
		Scrapes:     int64(f(func(m *Measurement) float64 { return float64(m.Scrapes) })),
	}
	s.Sat.Mean = d(func(m *Measurement) time.Duration { return m.Sat.Mean })
	s.Sat.P99 = d(func(m *Measurement) time.Duration { return m.Sat.P99 })
	s.Half.Mean = d(func(m *Measurement) time.Duration { return m.Half.Mean })
	s.Half.P99 = d(func(m *Measurement) time.Duration { return m.Half.P99 })
	for _, m := range ms {
		s.Half.Over10ms = max(s.Half.Over10ms, m.Half.Over10ms)
		s.Half.Max = max(s.Half.Max, m.Half.Max)
	}
	s.VsWhoami = r.ratio(name, nameWhoami)
	s.VsFile = r.ratio(name, nameFile)
	return s, true
}

// ratio is the median over rounds of name's QPS over base's in the same
// round: the machine's load changes between rounds, less within one.
func (r *Results) ratio(name, base string) float64 {
	a, b := r.Rounds[name], r.Rounds[base]
	var v []float64
	for i := range min(len(a), len(b)) {
		if a[i] != nil && b[i] != nil && a[i].QPS > 0 && b[i].QPS > 0 {
			v = append(v, a[i].QPS/b[i].QPS)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	return median(v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
