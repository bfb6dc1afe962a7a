package amtrelay

import (
	"sync"
	"sync/atomic"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
)

// The counters a query counts in (answers_total, ecs_queries_total) are
// kept here rather than in CounterVecs. A CounterVec hashes the label
// values to find the series (0.27 µs a query), and with 10,000 relays its
// series, one struct each, lie all over a megabyte of memory: with
// clients from everywhere, each answer's count was a cache miss (0.4 µs a
// query by a CPU profile under dnsperf, on a machine whose other tenants
// keep the caches cold).
//
// Here a counter's last label (the relay, the ECS use) has its values
// numbered once (valueID), and the counts of one set of the other labels
// (a countBlock) are an array by that number: 10,000 relays' counts take
// 80 kB, side by side. Whatever counts (a group, a server block's ECS
// use) keeps the block it counted in last; counting compares that
// block's labels with the query's (pointer comparisons, as the strings
// are the same) and adds. Counts live as long as the process, as a
// CounterVec's do, so they carry over reloads.

// queryCounter is one such counter metric: labels server, zone and view
// (queryLabels), then, with own 2, one more that a block fixes (the
// policy), then the numbered one.
type queryCounter struct {
	desc *prometheus.Desc
	// own is how many labels of its own the metric has, 1 or 2.
	own    int
	mu     sync.Mutex
	blocks map[blockKey]*countBlock
	// ids numbers the last label's values from 1; values lists them by
	// number (values[0] is unused: 0 means not numbered yet).
	ids    map[string]int32
	values []string
}

// blockKey identifies a block: the query's labels and, with own 2, the
// label the block fixes.
type blockKey struct {
	labels queryLabels
	a      string
}

// countBlock holds the counts of one blockKey, by value number, in
// chunks made on first use, so that a block of a server block's ECS uses
// stays small. A chunk, once made, is never moved: a count added to it is
// never lost.
type countBlock struct {
	key    blockKey
	chunks atomic.Pointer[[]*countChunk]
	mu     sync.Mutex // held to add a chunk
}

// countChunkLen is how many counts a chunk holds (8 kB).
const countChunkLen = 1024

type countChunk [countChunkLen]atomic.Uint64

// newQueryCounter makes a counter named coredns_amtrelay_<name> with
// labels server, zone, view and own, and registers it with the default
// registry, which CoreDNS's prometheus plugin serves.
func newQueryCounter(name, help string, own ...string) *queryCounter {
	c := &queryCounter{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, pluginName, name), help, append([]string{"server", "zone", "view"}, own...), nil),
		own:    len(own),
		blocks: map[blockKey]*countBlock{},
		ids:    map[string]int32{},
		values: []string{""},
	}
	prometheus.MustRegister(c)
	return c
}

// valueID numbers v, a value of the last label, once for the process.
func (c *queryCounter) valueID(v string) int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[v]
	if !ok {
		id = int32(len(c.values))
		c.ids[v] = id
		c.values = append(c.values, v)
	}
	return id
}

// count counts one query with labels l and a, and the last label's value
// numbered id, through last: the block counted in last there, replaced
// when the labels differ.
func (c *queryCounter) count(last *atomic.Pointer[countBlock], l queryLabels, a string, id int32) {
	b := last.Load()
	if b == nil || b.key.labels != l || b.key.a != a {
		b = c.block(blockKey{labels: l, a: a})
		last.Store(b)
	}
	b.add(id)
}

// block returns the block of k, made on first use.
func (c *queryCounter) block(k blockKey) *countBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blocks[k]
	if b == nil {
		b = &countBlock{key: k}
		b.chunks.Store(&[]*countChunk{})
		c.blocks[k] = b
	}
	return b
}

// add counts one for value id.
func (b *countBlock) add(id int32) {
	i := int(id) / countChunkLen
	if chunks := *b.chunks.Load(); i < len(chunks) && chunks[i] != nil {
		chunks[i][int(id)%countChunkLen].Add(1)
		return
	}
	b.mu.Lock()
	chunks := *b.chunks.Load()
	if i >= len(chunks) || chunks[i] == nil {
		grown := make([]*countChunk, max(len(chunks), i+1))
		copy(grown, chunks)
		grown[i] = new(countChunk)
		b.chunks.Store(&grown)
		chunks = grown
	}
	b.mu.Unlock()
	chunks[i][int(id)%countChunkLen].Add(1)
}

// Describe implements prometheus.Collector.
func (c *queryCounter) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector: one series for each block
// and value counted at least once.
func (c *queryCounter) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	blocks := make([]*countBlock, 0, len(c.blocks))
	for _, b := range c.blocks {
		blocks = append(blocks, b)
	}
	values := c.values
	c.mu.Unlock()
	for _, b := range blocks {
		k := b.key
		for i, chunk := range *b.chunks.Load() {
			if chunk == nil {
				continue
			}
			for j := range chunk {
				n := chunk[j].Load()
				if n == 0 {
					continue
				}
				id := i*countChunkLen + j
				if id >= len(values) {
					continue // numbered after the snapshot: the next scrape shows it
				}
				v := values[id]
				labels := []string{k.labels.server, k.labels.zone, k.labels.view, k.a, v}
				if c.own == 1 {
					labels = []string{k.labels.server, k.labels.zone, k.labels.view, v}
				}
				ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), labels...)
			}
		}
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
