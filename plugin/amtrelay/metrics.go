package amtrelay

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// locationUnknown counts clients the GeoIP database could not place.
	locationUnknown = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "location_unknown_total",
		Help:      "Counter of clients with no location: no_database or not_in_database.",
	}, []string{"server", "zone", "view", "reason"})
	// locationUnknownShare is the share of location policy queries over the
	// last 5 minutes whose client had no location.
	locationUnknownShare = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "location_unknown_share",
		Help:      "Share of the queries of location policies (closest, least-load, spill-over) over the last 5 minutes whose client had no location; over 0.5 is logged as a warning.",
	}, []string{"server"})
	// fallbacks counts answers a policy could not rank as it meant to.
	fallbacks = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "fallbacks_total",
		Help:      "Counter of answers that fell back: no_client_location, no_relay_location, load_unknown, all_down.",
	}, []string{"server", "zone", "view", "policy", "reason"})
	// geoipReloads counts loads of the GeoIP database file.
	geoipReloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "geoip_loads_total",
		Help:      "Counter of GeoIP database loads, by result: ok, or error (the last good database stays in use).",
	}, []string{"result"})

	// geoipLoadErrors counts GeoIP database files that failed to load.
	geoipLoadErrors = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "geoip_load_errors_total",
		Help:      "Counter of GeoIP database files that failed to load (each bad file once); the last good database stays in use.",
	})

	// relayUp is 1 for a relay that passes its health probes, 0 if not.
	relayUp = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "relay_up",
		Help:      "Whether the relay passes its AMT health probe: 1 up, 0 down or full.",
	}, []string{"server", "relay"})
	// probeDuration is the round-trip time of successful probes.
	probeDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "probe_duration_seconds",
		Help:      "Round-trip time of successful AMT health probes (Relay Discovery, and Request with request).",
		Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"server", "relay"})
	// probeFailures counts failed probe rounds.
	probeFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "probe_failures_total",
		Help:      "Counter of failed AMT health probe rounds, by reason: timeout, full, resolve, error.",
	}, []string{"server", "relay", "reason"})
	// probeIgnored counts replies to probes that were not accepted.
	probeIgnored = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "probe_ignored_replies_total",
		Help:      "Counter of datagrams ignored by health probes, by reason: nonce, source, length, malformed.",
	}, []string{"reason"})
	// healthSource says which view decides relay health: 1 for the one in
	// use, "fleet" or "local".
	healthSource = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "health_source",
		Help:      "Which view decides relay health (1 for the one in use): fleet (the fleet's view from Prometheus) or local (this instance's own probes).",
	}, []string{"server", "source"})
	// fleetFallbacks counts changes from the fleet's view to local probes.
	fleetFallbacks = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "health_fleet_fallbacks_total",
		Help:      "Counter of changes from the fleet's health view to this instance's own probes, by reason: unreachable, bad_response, stale, empty.",
	}, []string{"server", "reason"})
	// relayPath is 1 for a relay that delivers a source's beacon, 0 if not.
	relayPath = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "relay_path",
		Help:      "Whether the relay reaches the source by its beacon (S,G): 1 beacon data came through it, 0 it joined and no data came (left out of that source's answers).",
	}, []string{"server", "relay", "source", "group"})
	// beaconFailures counts beacon probes that got no beacon data.
	beaconFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "beacon_probe_failures_total",
		Help:      "Counter of beacon probes through a relay that got no beacon data, by reason: no_data (no path), discovery, join, full, resolve, error (the relay could not be asked; the path verdict stays).",
	}, []string{"server", "relay", "source", "group", "reason"})
	// beaconFirstData is the time from a probe's start to the first beacon packet.
	beaconFirstData = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "beacon_first_data_seconds",
		Help:      "Time from the start of a successful beacon probe (Request, Membership Query, Update) to the first beacon packet through the relay.",
		Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"server", "relay"})
	// beaconPackets and beaconBytes are what beacon probes cost on the
	// wire: the AMT tunnel's UDP datagrams and their payload octets.
	beaconPackets = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "beacon_probe_packets_total",
		Help:      "Counter of the AMT datagrams beacon probes sent and received (Request, Updates to join and leave; Membership Query, data), by direction: sent, received.",
	}, []string{"server", "direction"})
	beaconBytes = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "beacon_probe_bytes_total",
		Help:      "Counter of the UDP payload octets of the AMT datagrams beacon probes sent and received, by direction: sent, received.",
	}, []string{"server", "direction"})
	// relayLoad is the last load reading of each relay.
	relayLoad = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "relay_load",
		Help:      "Last load reading of the relay, in the unit of its capacity.",
	}, []string{"server", "relay"})
	// loadStale is 1 for a relay whose load is unknown or older than max-age.
	loadStale = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "load_stale",
		Help:      "Whether the relay's load is unknown or older than max-age (1), so policies use distance instead.",
	}, []string{"server", "relay"})
	// loadErrors counts load reads and readings that were not used.
	loadErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "load_errors_total",
		Help:      "Counter of load reads that failed or readings ignored, by source and reason: unreachable, bad_response, invalid_value, unknown_relay.",
	}, []string{"source", "reason"})
	// reloads counts Corefile reloads that did not take: refused by this
	// build's Corefile loader (an empty file, or one with no server block),
	// or failed while the running configuration kept serving.
	reloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "reloads_rejected_total",
		Help:      "Counter of Corefile reloads that did not take, by reason: refused (empty, or no server block), failed (the new configuration did not start). The running configuration keeps serving.",
	}, []string{"reason"})
)

// The reload series exist from the start, at 0, so that an alert's
// increase() sees the first rejection too.
func init() {
	reloads.WithLabelValues("refused")
	reloads.WithLabelValues("failed")
}

// CountRefusedReload counts a Corefile that a build refused to reload
// (reloads_rejected_total{reason="refused"}). This project's cmd/coredns
// refuses an empty Corefile, or one with no server block, before caddy
// would turn it into its default configuration.
func CountRefusedReload() { reloads.WithLabelValues("refused").Inc() }
