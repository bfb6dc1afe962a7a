package amtrelay

import (
	"sync"
	"sync/atomic"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
)

// The counters a query counts in (answers_total, ecs_queries_total) are
// kept here rather than in CounterVecs. A series holds its own count next
// to its labels, and whatever counts (a relay, a group, a server block's
// ECS use) points at the series it counted last. Counting then compares
// the labels with the last ones (pointer comparisons, as the strings are
// the same) and adds in the same struct: a CounterVec hashes the label
// values to find the series (0.27 µs a query), and its series is a second
// struct to read (with 10,000 relays and clients from everywhere, a
// second cache miss a query; both by CPU profiles under dnsperf). Series
// live as long as the process, as a CounterVec's do, so counts carry over
// reloads.

// queryCounter is one such counter metric: labels server, zone and view
// (queryLabels), then one or two of its own.
type queryCounter struct {
	desc *prometheus.Desc
	// own is how many labels of its own the metric has, 1 or 2.
	own    int
	mu     sync.Mutex
	series map[seriesKey]*querySeries
}

// seriesKey identifies a series: the query's labels and the metric's own.
type seriesKey struct {
	labels queryLabels
	a, b   string
}

// querySeries is one series and its count.
type querySeries struct {
	n   atomic.Uint64
	key seriesKey
}

// newQueryCounter makes a counter named coredns_amtrelay_<name> with
// labels server, zone, view and own, and registers it with the default
// registry, which CoreDNS's prometheus plugin serves.
func newQueryCounter(name, help string, own ...string) *queryCounter {
	c := &queryCounter{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, pluginName, name), help, append([]string{"server", "zone", "view"}, own...), nil),
		own:    len(own),
		series: map[seriesKey]*querySeries{},
	}
	prometheus.MustRegister(c)
	return c
}

// count counts one query in the series of l, a and b, through last: the
// series counted last there, replaced when the labels differ. A last
// belongs to one counting thing whose b never changes (a relay and its
// name), so b is not compared, and is read only when the series changes:
// a relay's name lies beyond its first cache line.
func (c *queryCounter) count(last *atomic.Pointer[querySeries], l queryLabels, a string, b *string) {
	if s := last.Load(); s != nil && s.key.labels == l && s.key.a == a {
		s.n.Add(1)
		return
	}
	k := seriesKey{labels: l, a: a}
	if b != nil {
		k.b = *b
	}
	s := c.get(k)
	last.Store(s)
	s.n.Add(1)
}

// get returns the series of k, made on first use.
func (c *queryCounter) get(k seriesKey) *querySeries {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.series[k]
	if s == nil {
		s = &querySeries{key: k}
		c.series[k] = s
	}
	return s
}

// Describe implements prometheus.Collector.
func (c *queryCounter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *queryCounter) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	series := make([]*querySeries, 0, len(c.series))
	for _, s := range c.series {
		series = append(series, s)
	}
	c.mu.Unlock()
	for _, s := range series {
		k := s.key
		values := []string{k.labels.server, k.labels.zone, k.labels.view, k.a, k.b}[:3+c.own]
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(s.n.Load()), values...)
	}
}

var (
	// answers counts AMTRELAY answers by policy and the relay ranked first.
	answers = newQueryCounter("answers_total",
		"Counter of answers, by the policy that ranked them and the relay ranked first (\"none\" for no relay).",
		"policy", "relay")
	// ecsQueries counts queries in the plugin's zones by their use of ECS.
	ecsQueries = newQueryCounter("ecs_queries_total",
		"Counter of queries by EDNS Client Subnet use: used, zero_source (the resolver's address was used), none, malformed (FORMERR).",
		"ecs")
)
