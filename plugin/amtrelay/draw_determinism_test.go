package amtrelay

import (
	"fmt"
	"slices"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// TestTwoInstancesAnswerAlike: two handlers set up separately from the
// same Corefile, as two instances of a fleet behind one anycast address,
// give identical answers to the same sequence of queries, for every
// policy that rotates or draws. Each has its own process state (caches,
// generations); only the query and the time decide.
func TestTwoInstancesAnswerAlike(t *testing.T) {
	clients := []string{"203.0.113.0/28", "203.0.113.16/28", "203.0.113.64/26", "203.0.113.128/26", ""}
	for _, policy := range []string{"policy round-robin", "policy weighted", "policy spill-over 0.6 0.9 3"} {
		t.Run(policy, func(t *testing.T) {
			corefile := sites(policy, map[string]string{"lon": "75", "par": "40", "fra": "100", "ams": "10", "nyc": "50"})
			one := startedHandler(t, corefile, geotest.Example)
			two := startedHandler(t, corefile, geotest.Example)
			tickOne, tickTwo := manualClock(one), manualClock(two)
			differ, distinct := 0, map[string]bool{}
			for i := range 600 {
				if i%60 == 59 {
					tickOne()
					tickTwo()
				}
				source := fmt.Sprintf("198.51.100.%d", 1+(i*7)%254)
				ecs := clients[i%len(clients)]
				a := ask(t, one, source, "127.0.0.1", ecs)
				b := ask(t, two, source, "127.0.0.1", ecs)
				ga, gb := order(t, a), order(t, b)
				if !slices.Equal(ga, gb) {
					differ++
					if differ < 5 {
						t.Errorf("query %d (%s from %q): %q and %q", i, source, ecs, ga, gb)
					}
				}
				distinct[ga[0]] = true
				if ea, eb := replyECS(a), replyECS(b); ea != nil && ea.SourceScope != eb.SourceScope {
					t.Errorf("query %d: ECS scopes /%d and /%d", i, ea.SourceScope, eb.SourceScope)
				}
			}
			if differ > 0 {
				t.Errorf("%d of 600 answers differed", differ)
			}
			// Alike, but not constant: the draws still move.
			if len(distinct) < 2 {
				t.Errorf("every answer ranked %v first", distinct)
			}
		})
	}
}

// TestDrawScope: an answer may depend on nothing finer than its ECS scope
// says (RFC 7871 §7.2.1), since a resolver shares it with every client
// in the scope. Round-robin and weighted answers hold for every client
// (scope 0): clients anywhere get the same one. Spill-over's draw uses the
// client's GeoIP network, its scope: two subnets of one network get the
// same answer for every name.
func TestDrawScope(t *testing.T) {
	for _, tc := range []struct {
		policy    string
		a, b      string // two client subnets
		wantScope uint8
	}{
		{"policy round-robin", "203.0.113.0/26", "203.0.113.128/26", 0},
		{"policy weighted", "203.0.113.0/26", "2001:db8:2::/48", 0},
		{"policy spill-over 0.6 0.9 3", "203.0.113.0/28", "203.0.113.32/27", 26},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			a := startedHandler(t, sites(tc.policy, map[string]string{"lon": "75"}), geotest.Example)
			manualClock(a)
			for i := 1; i <= 254; i++ {
				source := fmt.Sprintf("198.51.100.%d", i)
				ra, rb := ask(t, a, source, "127.0.0.1", tc.a), ask(t, a, source, "127.0.0.1", tc.b)
				if got := replyECS(ra).SourceScope; got != tc.wantScope {
					t.Fatalf("%s from %s: scope /%d, want /%d", source, tc.a, got, tc.wantScope)
				}
				if !slices.Equal(order(t, ra), order(t, rb)) {
					t.Fatalf("%s: %s got %q, %s got %q: the answer depends on more than its scope", source, tc.a, order(t, ra), tc.b, order(t, rb))
				}
			}
		})
	}
}
