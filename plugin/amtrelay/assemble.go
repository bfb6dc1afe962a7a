package amtrelay

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/amtrelay/amtrelay/amt"

	"github.com/coredns/coredns/plugin"
)

// assemble resolves names, derives and checks zones, and builds the
// handler.
func (cfg *config) assemble(serverBlockKeys []string) (*AMTRelay, error) {
	if len(cfg.sources) == 0 && cfg.zonefile == nil {
		return nil, cfg.pos.errorf("no source configured: add a line such as 'source 198.51.100.0/24 RELAY...', or a zonefile")
	}
	table := newPrefixTable()
	var prefixes []netip.Prefix
	var groups []*group
	for i, sd := range cfg.sources {
		g := sd.group
		g.id = i
		g.prefixes = sd.prefixes
		groups = append(groups, g)
		if err := cfg.assembleGroup(sd); err != nil {
			return nil, err
		}
		for _, p := range sd.prefixes {
			if !table.add(p, g) {
				return nil, sd.pos.errorf("prefix %s is configured twice", p)
			}
			prefixes = append(prefixes, p)
		}
	}

	packDownFlags(cfg.relays)
	locateGroups(groups)

	zones, err := cfg.zones(serverBlockKeys, prefixes)
	if err != nil {
		return nil, err
	}
	if len(cfg.ns) == 0 {
		cfg.ns = []string{defaultNS}
		log.Warningf("%s:%d: no 'ns' configured, so zone apexes say NS %s: set 'ns' to the names the parent zones delegate to", cfg.pos.file, cfg.pos.line, defaultNS)
	}
	sel := newSelector()
	sel.bucket = time.Duration(cfg.ttl) * time.Second
	sel.geo = cfg.geoip
	blockZones := plugin.OriginsFromArgsOrServerBlock(nil, serverBlockKeys)
	a := &AMTRelay{
		blockZones: blockZones,
		Zones:      zones, zones: newZoneSet(zones), Fall: cfg.fall, sources: table, groups: groups, relays: cfg.relays, ttl: cfg.ttl,
		apexes: map[string]apex{}, sel: sel, explain: cfg.explain, allDown: cfg.allDown, strictReady: cfg.strictReady, anyLimit: cfg.anyLimit, checkECSLength: true, pos: cfg.pos,
	}
	if cfg.geoip != nil {
		cfg.geoip.onLoad = a.geoLoaded
		cfg.geoip.check()
		a.workers.add(cfg.geoip)
	}
	if slices.ContainsFunc(groups, func(g *group) bool { return g.locates }) {
		a.workers.add(sel.located)
	}
	if z := cfg.zonefile; z != nil {
		within := func(name string) bool { return a.zones.match(name) != "" }
		s, err := z.load(within)
		if err != nil {
			return nil, cfg.pos.errorf("zonefile: %v", err)
		}
		z.current.Store(s)
		a.zonefile = z
		a.workers.add(zonefileWorker{z: z, within: within})
	}
	if cfg.health != nil {
		h, err := newHealthChecker(*cfg.health, cfg.relays, sel.changed)
		if err != nil {
			return nil, cfg.pos.errorf("%v", err)
		}
		a.health = h
		a.health.allDown = cfg.allDown
		a.workers.add(a.health)
	}
	if err := cfg.assembleLoad(a); err != nil {
		return nil, err
	}
	if err := cfg.assembleBeacons(a); err != nil {
		return nil, err
	}
	for _, z := range zones {
		a.apexes[z] = newApex(z, cfg.ns, cfg.ttl, *cfg.serial)
	}
	return a, nil
}

// assembleGroup gives a source's group its relays, its policy and its
// answer size.
func (cfg *config) assembleGroup(sd sourceDirective) error {
	g := sd.group
	if g.spec.build == nil {
		g.spec = cfg.policy
	}
	if sd.noRelay {
		g.policy = noRelayPolicy{}
		return nil
	}
	relays, err := cfg.groupRelays(sd)
	if err != nil {
		return err
	}
	g.relays = relays
	g.locates = g.spec.kind.locates
	if g.limit == 0 {
		g.limit = cfg.answer
	}
	if g.limit == 0 {
		g.limit = g.spec.kind.answer
	}
	if g.limit == 0 {
		g.limit = len(g.relays)
	}
	p, err := g.spec.build(g)
	if err != nil {
		return sd.pos.errorf("%v", err)
	}
	g.policy = p
	return nil
}

// groupRelays resolves the relay names of a source; a source that names
// none has every relay.
func (cfg *config) groupRelays(sd sourceDirective) ([]*relay, error) {
	if len(sd.names) == 0 {
		if len(cfg.relays) == 0 {
			return nil, sd.pos.errorf("source has no relays: declare some with 'relay', or write 'none' for \"no relay\"")
		}
		return cfg.relays, nil
	}
	var out []*relay
	for _, n := range sd.names {
		r, ok := cfg.byName[n]
		if !ok {
			return nil, sd.pos.errorf("unknown relay '%s': declare it with 'relay %s ADDRESS'", n, n)
		}
		if slices.Contains(out, r) {
			return nil, sd.pos.errorf("relay '%s' is listed twice", n)
		}
		out = append(out, r)
	}
	return out, nil
}

// assembleLoad builds the load poller from the load sources.
func (cfg *config) assembleLoad(a *AMTRelay) error {
	a.sel.maxLoadAge = cfg.loadMaxAge
	if len(cfg.promSources) == 0 && len(cfg.scrapeSources) == 0 {
		return nil
	}
	p := &loadPoller{relays: cfg.relays, maxAge: cfg.loadMaxAge, sel: a.sel}
	idx := newRelayIndex(cfg.relays)
	for _, s := range cfg.promSources {
		s.relays, s.poller = idx, p
		p.sources = append(p.sources, s)
	}
	for _, s := range cfg.scrapeSources {
		s.poller, s.client, s.targets = p, newScrapeClient(), map[*relay]string{}
		for _, r := range cfg.relays {
			switch {
			case r.metricsURL != "":
				s.targets[r] = r.metricsURL
			case s.template != "":
				s.targets[r] = scrapeURL(s.template, r)
			}
		}
		if len(s.targets) == 0 {
			return cfg.pos.errorf("load scrape %s: no relay has a metrics URL: give the scrape a URL template, or relays 'metrics URL'", s.metric)
		}
		p.sources = append(p.sources, s)
	}
	p.pending.Store(int64(len(p.sources)))
	a.workers.add(p)
	return nil
}

// zones returns the zones the plugin is authoritative for: the block's
// arguments, else the server block keys; a root zone "." among them stands
// for the reverse zones derived from the prefixes. Every prefix must lie
// inside a zone.
func (cfg *config) zones(serverBlockKeys []string, prefixes []netip.Prefix) ([]string, error) {
	given := plugin.OriginsFromArgsOrServerBlock(cfg.zoneArgs, serverBlockKeys)
	if len(given) == 0 {
		given = []string{"."}
	}
	var zones []string
	for _, z := range given {
		if z == "." {
			zones = append(zones, derivedZones(prefixes)...)
			continue
		}
		if _, ok := parseReverse(z); !ok {
			return nil, cfg.pos.errorf("zone '%s' is not a reverse zone under in-addr.arpa. or ip6.arpa.", z)
		}
		zones = append(zones, z)
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)

	set := newZoneSet(zones)
	for _, sd := range cfg.sources {
		for _, p := range sd.prefixes {
			if !covered(p, set) {
				return nil, sd.pos.errorf("prefix %s is in no zone this plugin serves (%s): serve its reverse zone %s too, or drop the prefix",
					p, strings.Join(zones, " "), coveringZone(p))
			}
		}
	}
	return zones, nil
}

// assembleBeacons gives each source line's group its beacon, and the block
// one prober for them all.
func (cfg *config) assembleBeacons(a *AMTRelay) error {
	var beacons []*beacon
	seen := map[amt.Channel]position{}
	for _, sd := range cfg.sources {
		bc := sd.beacon
		if bc == nil {
			continue
		}
		if first, dup := seen[bc.ch]; dup {
			return bc.pos.errorf("beacon %v is configured twice (first on line %d): one beacon serves one source line; give each its own channel", bc.ch, first.line)
		}
		seen[bc.ch] = bc.pos
		if bc.relayPort == 0 {
			bc.relayPort = defaultAMTPort
			if cfg.health != nil {
				bc.relayPort = cfg.health.port
			}
		}
		b := newBeacon(*bc, sd.group)
		sd.group.beacon = b
		beacons = append(beacons, b)
	}
	if len(beacons) > 0 {
		a.workers.add(newBeaconProber(beacons, a.sel.changed))
	}
	return nil
}
