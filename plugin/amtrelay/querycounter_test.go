package amtrelay

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestQueryCounter: answers counted through one relay's cached series
// land in the series of their labels, also when the labels change back
// and forth and when many goroutines count at once; the collector exposes
// each series once, as a counter, with two labels of its own or one.
func TestQueryCounter(t *testing.T) {
	c := &queryCounter{desc: answers.desc, own: 2, series: map[seriesKey]*querySeries{}}
	var last atomic.Pointer[querySeries]
	z1 := queryLabels{"dns://:53", "in-addr.arpa.", ""}
	z2 := queryLabels{"dns://:53", "ip6.arpa.", ""}
	r1 := "r1"
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 1000 {
				c.count(&last, z1, "closest", &r1)
				if i%10 == 0 {
					c.count(&last, z2, "closest", &r1)
				}
			}
		})
	}
	wg.Wait()
	var other atomic.Pointer[querySeries]
	c.count(&other, z1, "static", &noRelayLabel)
	want := `
# HELP coredns_amtrelay_answers_total Counter of answers, by the policy that ranked them and the relay ranked first ("none" for no relay).
# TYPE coredns_amtrelay_answers_total counter
coredns_amtrelay_answers_total{policy="closest",relay="r1",server="dns://:53",view="",zone="in-addr.arpa."} 4000
coredns_amtrelay_answers_total{policy="closest",relay="r1",server="dns://:53",view="",zone="ip6.arpa."} 400
coredns_amtrelay_answers_total{policy="static",relay="none",server="dns://:53",view="",zone="in-addr.arpa."} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	e := &queryCounter{desc: ecsQueries.desc, own: 1, series: map[seriesKey]*querySeries{}}
	var used atomic.Pointer[querySeries]
	e.count(&used, z1, "used", nil)
	e.count(&used, z1, "used", nil)
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
