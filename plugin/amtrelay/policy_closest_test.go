package amtrelay

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// closestCorefile is corefile-examples/closest.corefile's configuration.
const closestCorefile = `amtrelay {
	relay cam 192.0.2.1 {
		location 52.2053 0.1218
	}
	relay chi 192.0.2.2 {
		location 41.8781 -87.6298
	}
	relay syd 192.0.2.3 {
		location -33.8688 151.2093
	}
	source 198.51.100.0/24
	policy closest
	answer 3
	geoip GEOIP
	explain
}`

func TestClosestByContinent(t *testing.T) {
	a := startedHandler(t, closestCorefile, geotest.Example)
	for _, tc := range []struct {
		name  string
		ecs   string
		want  []string
		scope uint8
	}{
		{"London /26", "203.0.113.0/26", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 26},
		{"London /32", "203.0.113.9/32", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 26},
		{"New York", "203.0.113.64/26", []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}, 26},
		{"Melbourne", "203.0.113.128/27", []string{"0 192.0.2.3", "1 192.0.2.2", "2 192.0.2.1"}, 26},
		{"Tokyo", "203.0.113.200/29", []string{"0 192.0.2.3", "1 192.0.2.1", "2 192.0.2.2"}, 26},
		{"London IPv6", "2001:db8:1::/56", []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}, 48},
		{"New York IPv6", "2001:db8:2:ab00::/56", []string{"0 192.0.2.2", "1 192.0.2.1", "2 192.0.2.3"}, 48},
		{"Melbourne IPv6", "2001:db8:3::/48", []string{"0 192.0.2.3", "1 192.0.2.2", "2 192.0.2.1"}, 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, a, "198.51.100.12", "127.0.0.1", tc.ecs)
			if got := order(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("order %q, want %q", got, tc.want)
			}
			e := replyECS(r)
			if e == nil {
				t.Fatal("no ECS option in the reply")
			}
			q := ecsOpt(t, tc.ecs)
			if e.Family != q.Family || e.SourceNetmask != q.SourceNetmask || !net.IP(e.Address).Equal(q.Address) {
				t.Errorf("ECS echo %v, want %v", e, q)
			}
			if e.SourceScope != tc.scope {
				t.Errorf("scope /%d, want /%d", e.SourceScope, tc.scope)
			}
		})
	}
}

// TestNoLocationFallsBack: no database entry, an entry without
// coordinates, or no database at all give the failover order.
func TestNoLocationFallsBack(t *testing.T) {
	failover := []string{"0 192.0.2.1", "1 192.0.2.2", "2 192.0.2.3"}
	a := startedHandler(t, closestCorefile, geotest.Example)
	// Loopback is not in the database: scoped to the empty network around it.
	r := ask(t, a, "198.51.100.12", "127.0.0.1", "198.51.100.0/24")
	if got := order(t, r); !slices.Equal(got, failover) {
		t.Errorf("unknown client: %q, want failover %q", got, failover)
	}
	if e := replyECS(r); e == nil || e.SourceScope == 0 {
		t.Errorf("unknown client answer must be scoped to its network, ECS %v", e)
	}
	// A record without coordinates.
	if got := order(t, ask(t, a, "198.51.100.12", "127.0.0.1", "2001:db8:4::/48")); !slices.Equal(got, failover) {
		t.Errorf("client without coordinates: %q", got)
	}
	// No database file at all: failover, and scope 0.
	b := startedHandler(t, strings.Replace(closestCorefile, "GEOIP", filepath.Join(t.TempDir(), "missing.mmdb"), 1), nil)
	r = ask(t, b, "198.51.100.12", "127.0.0.1", "203.0.113.0/26")
	if got := order(t, r); !slices.Equal(got, failover) {
		t.Errorf("no database: %q", got)
	}
	if e := replyECS(r); e == nil || e.SourceScope != 0 {
		t.Errorf("no database: ECS %v, want scope 0", e)
	}
}

// TestRelayLocationFromDatabase: a relay without `location` is placed by
// looking its address up.
func TestRelayLocationFromDatabase(t *testing.T) {
	a := startedHandler(t, `amtrelay {
		relay ny 203.0.113.70
		relay mel 203.0.113.140
		relay nowhere 192.0.2.99
		source 198.51.100.0/24
		policy closest
		geoip GEOIP
	}`, geotest.Example)
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.128/26")); !slices.Equal(got, []string{"0 203.0.113.140", "1 203.0.113.70", "2 192.0.2.99"}) {
		t.Errorf("from Melbourne: %q", got)
	}
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.0/26")); !slices.Equal(got, []string{"0 203.0.113.70", "1 203.0.113.140", "2 192.0.2.99"}) {
		t.Errorf("from London: %q", got)
	}
}
