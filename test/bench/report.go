package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// fmtDur prints a latency: µs under a millisecond, "lost" for queries
// that never came back.
func fmtDur(d time.Duration) string {
	switch {
	case d == time.Duration(math.MaxInt64):
		return "lost"
	case d == 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "—"
	}
	return fmt.Sprintf("%.2f", r)
}

func fmtQPS(q float64) string {
	if q == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", q)
}

// table is the results as a Markdown table, one row a scenario.
func table(res *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| server | rounds | QPS | × whoami | × file | mean / p99 at saturation | QPS at %d/s | mean / p99 at %d/s | CPU per query | server CPU busy | RSS | startup | notes |\n", res.Rate, res.Rate)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, name := range res.Order {
		s, ok := res.summary(name)
		if !ok {
			fmt.Fprintf(&b, "| %s | 0 | failed | | | | | | | | | | %s |\n", name, oneLine(strings.Join(res.Errors[name], "; ")))
			continue
		}
		var notes []string
		if s.Reload > 0 {
			notes = append(notes, fmt.Sprintf("reload %s; over 10 ms: %d; max %s", fmtDur(s.Reload), s.Half.Over10ms, fmtDur(s.Half.Max)))
		}
		if s.Flips > 0 {
			notes = append(notes, fmt.Sprintf("%d load changes, %d scrapes", s.Flips, s.Scrapes))
		}
		if n := len(res.Errors[name]); n > 0 {
			notes = append(notes, fmt.Sprintf("%d rounds failed: %s", n, oneLine(strings.Join(res.Errors[name], "; "))))
		}
		if s.HalfQPS > 0 && s.HalfQPS < 0.95*float64(res.Rate) {
			notes = append(notes, "could not keep up with the rate")
		}
		sat := "—"
		if s.QPS > 0 {
			sat = fmtDur(s.Sat.Mean) + " / " + fmtDur(s.Sat.P99)
		}
		cpu, busy, rss := "—", "—", "—"
		if s.CPUPerQuery > 0 {
			cpu = fmt.Sprintf("%.1f µs", float64(s.CPUPerQuery)/float64(time.Microsecond))
			busy = fmt.Sprintf("%.0f%%", 100*s.CPUBusy)
		}
		if s.RSS > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(s.RSS)/(1<<20))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f s | %s |\n",
			name, s.Rounds, fmtQPS(s.QPS), fmtRatio(s.VsWhoami), fmtRatio(s.VsFile), sat,
			fmtQPS(s.HalfQPS), fmtDur(s.Half.Mean)+" / "+fmtDur(s.Half.P99), cpu, busy, rss, s.Startup.Seconds(), strings.Join(notes, "; "))
	}
	return b.String()
}

// target is one of issue 13's targets and the run's figure for it.
type target struct {
	What, Figure string
	Met          string // "yes", "no" or "not run"
}

func verdict(ok, ran bool) string {
	switch {
	case !ran:
		return "not run"
	case ok:
		return "yes"
	default:
		return "**no**"
	}
}

// targets checks the targets against the results.
func targets(res *Results) []target {
	var out []target
	ratioTarget := func(what, a, b string, want float64) {
		r := res.ratio(a, b)
		ran := !math.IsNaN(r)
		fig := "—"
		if ran {
			fig = fmt.Sprintf("%.2f×", r)
		}
		out = append(out, target{what, fig, verdict(r >= want, ran)})
	}
	closest10kMany := policyName("closest", 10000, ManySubnets)
	ratioTarget("closest, 10,000 relays, many subnets ≥ 0.95× whoami", closest10kMany, nameWhoami, 0.95)
	ratioTarget("closest, 10,000 relays, many subnets ≥ 0.9× closest, 10 relays, one subnet", closest10kMany, policyName("closest", 10, OneSubnet), 0.9)
	ratioTarget("closest, 10,000 relays, many subnets, a relay flapping ≥ 0.9× without", nameFlap, closest10kMany, 0.9)
	ratioTarget("seed-style A, 10 relays, many subnets ≥ 0.38× gdnsd", nameSeed10, nameGdnsd, 0.38)
	ratioTarget("seed-style A, 10 relays, many subnets ≥ 10× PowerDNS LUA", nameSeed10, namePdns, 10)
	// p99 at half of peak, the worst amtrelay scenario.
	worst, worstName := time.Duration(0), ""
	for _, name := range res.Order {
		if !strings.HasPrefix(name, "amtrelay") {
			continue
		}
		if s, ok := res.summary(name); ok && s.Half.P99 > worst {
			worst, worstName = s.Half.P99, name
		}
	}
	out = append(out, target{fmt.Sprintf("p99 at half of peak (%d/s) ≤ 1 ms, every amtrelay scenario", res.Rate),
		fmt.Sprintf("worst %s (%s)", fmtDur(worst), worstName), verdict(worst <= time.Millisecond, worstName != "")})
	s, ok := res.summary(nameReload)
	fig := "—"
	if ok {
		fig = fmt.Sprintf("%d queries over 10 ms or lost, max %s; reload took %s", s.Half.Over10ms, fmtDur(s.Half.Max), fmtDur(s.Reload))
		if h, ok := res.summary(nameHostsReload); ok {
			fig += fmt.Sprintf(" (stock CoreDNS reloading a Corefile as large, a %s-line hosts block: %d over 10 ms, max %s)", count(hostsLines), h.Half.Over10ms, fmtDur(h.Half.Max))
		}
	}
	out = append(out, target{"reload, 10,000 relays, 200,000-network database, at half of peak: no query over 10 ms", fig, verdict(ok && s.Half.Over10ms == 0, ok)})
	fig = "—"
	if !math.IsNaN(res.Allocs) {
		fig = fmt.Sprintf("%g (%s)", res.Allocs, allocsBenchmark)
	}
	out = append(out, target{"≤ 10 allocations per ServeDNS", fig, verdict(res.Allocs <= 10, !math.IsNaN(res.Allocs))})
	return out
}

func targetTable(ts []target) string {
	var b strings.Builder
	b.WriteString("| target | figure | met |\n|---|---|---|\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.What, t.Figure, t.Met)
	}
	return b.String()
}

// oneLine makes an error fit a table cell: one line, at most 300
// characters, no cell separators.
func oneLine(s string) string {
	s = strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", "/")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
