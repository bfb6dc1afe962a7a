package amtrelay

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// answers counts AMTRELAY answers by policy and the relay ranked first.
	answers = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "answers_total",
		Help:      "Counter of answers, by the policy that ranked them and the relay ranked first (\"none\" for no relay).",
	}, []string{"server", "policy", "relay"})
	// ecsQueries counts queries in the plugin's zones by their use of ECS.
	ecsQueries = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "ecs_queries_total",
		Help:      "Counter of queries by EDNS Client Subnet use: used, zero_source (the resolver's address was used), none, malformed (FORMERR).",
	}, []string{"server", "ecs"})
	// locationUnknown counts clients the GeoIP database could not place.
	locationUnknown = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "location_unknown_total",
		Help:      "Counter of clients with no location: no_database or not_in_database.",
	}, []string{"server", "reason"})
	// fallbacks counts answers a policy could not rank as it meant to.
	fallbacks = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "fallbacks_total",
		Help:      "Counter of answers that fell back: no_client_location, no_relay_location, load_unknown, all_down.",
	}, []string{"server", "policy", "reason"})
	// geoipReloads counts loads of the GeoIP database file.
	geoipReloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "geoip_loads_total",
		Help:      "Counter of GeoIP database loads, by result: ok, or error (the last good database stays in use).",
	}, []string{"result"})
)
