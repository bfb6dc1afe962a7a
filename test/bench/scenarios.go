package main

import (
	"fmt"
	"slices"
)

// Kind is the server program a scenario runs.
type Kind int

const (
	StockCoreDNS    Kind = iota // github.com/coredns/coredns as pinned by the repository
	AmtrelayCoreDNS             // the repository's cmd/coredns
	Gdnsd
	PowerDNS
)

// Scenario is one server configuration and the queries it is timed with.
type Scenario struct {
	Name    string // the table's label
	Kind    Kind
	Queries QueryFile
	// Plugin is the stock CoreDNS plugin ("whoami", "file") for
	// StockCoreDNS; Policy the amtrelay policy ("static", "closest",
	// "least-load", "spill-over").
	Plugin, Policy string
	Relays         int // relays at random places (0: the three static relays)
	Prefixes       int // source prefixes (0: only 198.51.100.0/24)
	// Hosts is the length of a hosts block that stock CoreDNS's Corefile
	// carries (its entries' TTL changes at a reload): a Corefile as large
	// as amtrelay's with 10,000 relays, to show what reloading it costs
	// the framework itself.
	Hosts  int
	Flap   bool
	Reload bool
	Quick  bool // part of the -quick set
}

// Scenarios is every scenario of a full run, in the order each round runs
// them.
func Scenarios() []Scenario {
	many := QueryFile{SourceNames, ManySubnets}
	s := []Scenario{
		{Name: "CoreDNS whoami", Kind: StockCoreDNS, Plugin: "whoami", Queries: many, Quick: true},
		{Name: "CoreDNS file, the same 3 records", Kind: StockCoreDNS, Plugin: "file", Queries: many, Quick: true},
		{Name: "amtrelay static, 3 relays", Kind: AmtrelayCoreDNS, Policy: "static", Queries: many, Quick: true},
	}
	for _, policy := range []string{"closest", "least-load", "spill-over"} {
		for _, n := range []int{10, 1000, 10000} {
			for _, ecs := range []ECS{OneSubnet, ManySubnets} {
				s = append(s, Scenario{
					Name:    policyName(policy, n, ecs),
					Kind:    AmtrelayCoreDNS,
					Policy:  policy,
					Relays:  n,
					Queries: QueryFile{SourceNames, ecs},
					Quick:   policy == "closest" && n != 1000,
				})
			}
		}
	}
	s = append(s,
		Scenario{Name: "amtrelay static, 3 relays, 10 source prefixes", Kind: AmtrelayCoreDNS, Policy: "static", Prefixes: 10, Queries: QueryFile{Prefixes10, ManySubnets}},
		Scenario{Name: "amtrelay static, 3 relays, 100,000 source prefixes", Kind: AmtrelayCoreDNS, Policy: "static", Prefixes: 100_000, Queries: QueryFile{Prefixes100k, ManySubnets}},
		Scenario{Name: "amtrelay closest, 10 relays, 10 source prefixes, many subnets", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: 10, Prefixes: 10, Queries: QueryFile{Prefixes10, ManySubnets}},
		Scenario{Name: "amtrelay closest, 10 relays, 100,000 source prefixes, many subnets", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: 10, Prefixes: 100_000, Queries: QueryFile{Prefixes100k, ManySubnets}},
		Scenario{Name: "amtrelay closest, 10,000 relays, many subnets, one relay's load flapping every second", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: 10000, Flap: true, Queries: many, Quick: true},
		Scenario{Name: "amtrelay closest, seed-style amt. A, 10 relays, many subnets", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: peerRelays, Queries: QueryFile{SeedNames, ManySubnets}, Quick: true},
		Scenario{Name: "amtrelay closest, seed-style amt. A, 10,000 relays, many subnets", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: 10000, Queries: QueryFile{SeedNames, ManySubnets}},
		Scenario{Name: "gdnsd geoip, 10 relays, many subnets", Kind: Gdnsd, Relays: peerRelays, Queries: QueryFile{SeedNames, ManySubnets}, Quick: true},
		Scenario{Name: "PowerDNS LUA pickclosest(), 10 relays, many subnets", Kind: PowerDNS, Relays: peerRelays, Queries: QueryFile{SeedNames, ManySubnets}, Quick: true},
		Scenario{Name: "amtrelay closest, 10,000 relays, many subnets, reload (SIGUSR1) at half of peak", Kind: AmtrelayCoreDNS, Policy: "closest", Relays: 10000, Reload: true, Queries: many, Quick: true},
		Scenario{Name: nameHostsReload, Kind: StockCoreDNS, Plugin: "whoami", Hosts: hostsLines, Reload: true, Queries: many, Quick: true},
	)
	return pairsFirst(s)
}

// pairsFirst moves the scenarios that the ratio targets compare to the
// front of a round, each next to what it is compared with. The machine is
// a shared VM whose speed changes from one minute to the next (a
// neighbour's load slows a cache-missing server more than whoami), and a
// round takes about ten minutes: a ratio is only worth quoting between
// runs a few seconds apart.
func pairsFirst(s []Scenario) []Scenario {
	first := []string{
		nameWhoami, policyName("closest", 10000, ManySubnets), policyName("closest", 10, OneSubnet), nameFlap,
		nameSeed10, nameGdnsd, namePdns,
	}
	var out, rest []Scenario
	for _, name := range first {
		for _, sc := range s {
			if sc.Name == name {
				out = append(out, sc)
			}
		}
	}
	for _, sc := range s {
		if !slices.Contains(first, sc.Name) {
			rest = append(rest, sc)
		}
	}
	return append(out, rest...)
}

func count(n int) string {
	switch {
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%d,000", n/1000)
	default:
		return fmt.Sprint(n)
	}
}

func ecsLabel(e ECS) string {
	if e == OneSubnet {
		return "one subnet"
	}
	return "many subnets"
}

// Well-known scenario names the targets and the plot refer to.
const (
	nameWhoami = "CoreDNS whoami"
	nameFile   = "CoreDNS file, the same 3 records"
	nameStatic = "amtrelay static, 3 relays"
	nameGdnsd  = "gdnsd geoip, 10 relays, many subnets"
	namePdns   = "PowerDNS LUA pickclosest(), 10 relays, many subnets"
	nameSeed10 = "amtrelay closest, seed-style amt. A, 10 relays, many subnets"
	nameFlap   = "amtrelay closest, 10,000 relays, many subnets, one relay's load flapping every second"
	nameReload = "amtrelay closest, 10,000 relays, many subnets, reload (SIGUSR1) at half of peak"
	// The framework's own reload of a Corefile as large as nameReload's.
	nameHostsReload = "CoreDNS whoami, a 60,000-line hosts block, reload (SIGUSR1) at half of peak"
)

// hostsLines is the hosts block's length in nameHostsReload: two tokens a
// line, as many tokens as 10,000 relays of five lines, twelve tokens, in
// amtrelay's Corefile.
const hostsLines = 60_000

// policyName is the table label of a policy scenario.
func policyName(policy string, relays int, ecs ECS) string {
	return fmt.Sprintf("amtrelay %s, %s relays, %s", policy, count(relays), ecsLabel(ecs))
}
