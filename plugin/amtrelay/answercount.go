package amtrelay

import (
	"sync"
	"sync/atomic"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
)

// coredns_amtrelay_answers_total is kept here rather than in a CounterVec:
// a series holds its own count, and each relay (and each group, for "no
// relay" answers) points at the series it counted last. Counting an
// answer then reads the one struct that holds both the labels to compare
// and the count, where a CounterVec's series is a second struct: with
// 10,000 relays and clients from everywhere, a second cache miss per
// query (by a CPU profile under dnsperf). Series live as long as the
// process, as a CounterVec's do, so counts carry over reloads.

// answerSeries is one series of answers_total.
type answerSeries struct {
	n      atomic.Uint64
	labels queryLabels
	policy string
	relay  string
}

// answerKey identifies a series.
type answerKey struct {
	labels        queryLabels
	policy, relay string
}

// answerCollector holds every series and exposes them (a
// prometheus.Collector).
type answerCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	series map[answerKey]*answerSeries
}

// answers counts AMTRELAY answers by policy and the relay ranked first.
var answers = &answerCollector{
	desc: prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, pluginName, "answers_total"),
		"Counter of answers, by the policy that ranked them and the relay ranked first (\"none\" for no relay).",
		[]string{"server", "zone", "view", "policy", "relay"}, nil),
	series: map[answerKey]*answerSeries{},
}

func init() { prometheus.MustRegister(answers) }

// count counts one answer in the series of l, policy and relay, through
// last: the series counted last by this relay (or group), replaced when
// the labels differ. A last belongs to one relay, so its series has the
// relay's label: the relay's name, which lies beyond the relay's first
// cache line, is read only when the series changes.
func (c *answerCollector) count(last *atomic.Pointer[answerSeries], l queryLabels, policy string, relay *string) {
	if s := last.Load(); s != nil && s.labels == l && s.policy == policy {
		s.n.Add(1)
		return
	}
	s := c.get(answerKey{l, policy, *relay})
	last.Store(s)
	s.n.Add(1)
}

// get returns the series of k, made on first use.
func (c *answerCollector) get(k answerKey) *answerSeries {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.series[k]
	if s == nil {
		s = &answerSeries{labels: k.labels, policy: k.policy, relay: k.relay}
		c.series[k] = s
	}
	return s
}

// Describe implements prometheus.Collector.
func (c *answerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *answerCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	series := make([]*answerSeries, 0, len(c.series))
	for _, s := range c.series {
		series = append(series, s)
	}
	c.mu.Unlock()
	for _, s := range series {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(s.n.Load()),
			s.labels.server, s.labels.zone, s.labels.view, s.policy, s.relay)
	}
}
