package amtrelay

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestQueryCounter: answers counted through one group's cached block
// land in the series of their labels, also when the labels change back
// and forth, when many goroutines count at once, and for values numbered
// far apart (each in its own chunk); the collector exposes each series
// once, as a counter, with two labels of its own or one.
func TestQueryCounter(t *testing.T) {
	c := &queryCounter{desc: answers.desc, own: 2, blocks: map[blockKey]*countBlock{}, ids: map[string]int32{}, values: []string{""}}
	var last atomic.Pointer[countBlock]
	z1 := queryLabels{"dns://:53", "in-addr.arpa.", ""}
	z2 := queryLabels{"dns://:53", "ip6.arpa.", ""}
	r1 := c.valueID("r1")
	for i := range 3 * countChunkLen {
		c.valueID(fmt.Sprintf("filler%d", i))
	}
	far := c.valueID("far")
	if c.valueID("r1") != r1 {
		t.Fatal("a value was numbered twice")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 1000 {
				c.count(&last, z1, "closest", r1)
				if i%10 == 0 {
					c.count(&last, z2, "closest", r1)
					c.count(&last, z2, "closest", far)
				}
			}
		})
	}
	wg.Wait()
	var other atomic.Pointer[countBlock]
	c.count(&other, z1, "static", c.valueID(noRelayLabel))
	want := `
# HELP coredns_amtrelay_answers_total Counter of answers, by the policy that ranked them and the relay ranked first ("none" for no relay).
# TYPE coredns_amtrelay_answers_total counter
coredns_amtrelay_answers_total{policy="closest",relay="far",server="dns://:53",view="",zone="ip6.arpa."} 400
coredns_amtrelay_answers_total{policy="closest",relay="r1",server="dns://:53",view="",zone="in-addr.arpa."} 4000
coredns_amtrelay_answers_total{policy="closest",relay="r1",server="dns://:53",view="",zone="ip6.arpa."} 400
coredns_amtrelay_answers_total{policy="static",relay="none",server="dns://:53",view="",zone="in-addr.arpa."} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	e := &queryCounter{desc: ecsQueries.desc, own: 1, blocks: map[blockKey]*countBlock{}, ids: map[string]int32{}, values: []string{""}}
	var used atomic.Pointer[countBlock]
	e.count(&used, z1, "", e.valueID("used"))
	e.count(&used, z1, "", e.valueID("used"))
	wantECS := `
# HELP coredns_amtrelay_ecs_queries_total Counter of queries by EDNS Client Subnet use: used, zero_source (the resolver's address was used), none, malformed (FORMERR).
# TYPE coredns_amtrelay_ecs_queries_total counter
coredns_amtrelay_ecs_queries_total{ecs="used",server="dns://:53",view="",zone="in-addr.arpa."} 2
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(wantECS)); err != nil {
		t.Error(err)
	}
	// The plugin's counters are in the default registry, which CoreDNS's
	// prometheus plugin serves.
	for _, c := range []*queryCounter{answers, ecsQueries} {
		if err := prometheus.Register(c); err == nil {
			t.Errorf("%v was not registered", c.desc)
		}
	}
}

// countOf is the count of value v in c's block k.
func countOf(c *queryCounter, k blockKey, v string) uint64 {
	id := c.valueID(v)
	chunks := *c.block(k).chunks.Load()
	if i := int(id) / countChunkLen; i < len(chunks) && chunks[i] != nil {
		return chunks[i][int(id)%countChunkLen].Load()
	}
	return 0
}
