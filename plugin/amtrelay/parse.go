package amtrelay

import (
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"

	"github.com/miekg/dns"
)

// Defaults for the Corefile properties.
const (
	defaultTTL = 30
	maxTTL     = 86400
	// defaultNS is the NS target when no `ns` is configured. Operators must
	// set `ns` to the names the parent zone delegates to.
	defaultNS = "localhost."
)

// config is what one amtrelay block says, before it is assembled into a
// handler.
type config struct {
	pos      position
	zoneArgs []string
	relays   []*relay
	byName   map[string]*relay
	byValue  map[string]*relay
	sources  []sourceDirective
	policy   policySpec
	answer   int
	ttl      uint32
	ns       []string
	fall     fall.F
	geoip    *geoDB
	explain  bool
	allDown  allDownAction
	// zonefile serves AMTRELAY records from a zone file.
	zonefile *zonefile
	// anyLimit caps the records of an answer to QTYPE ANY (0: no cap).
	anyLimit int
	// strictReady: not ready while no relay is up, or no GeoIP database
	// has loaded for a policy that needs one (`readiness strict`).
	strictReady bool
	health      *healthConfig
	// load sources, and how old a reading may be
	loadMaxAge    time.Duration
	promSources   []*promSource
	scrapeSources []*scrapeSource
	// serial is the SOA serial: `serial N`, else configSerial's.
	serial *uint32
}

// sourceDirective is one `source` line before its relay names are resolved.
type sourceDirective struct {
	pos      position
	prefixes []netip.Prefix
	names    []string
	// noRelay is set by `none`: answer "0 0 0 ." for these sources.
	noRelay bool
	group   *group
	// beacon checks that each relay reaches the sources (beacon.go).
	beacon *beaconConfig
}

// parse reads the amtrelay block of the server block in c.
func parse(c *caddy.Controller) (*AMTRelay, error) {
	cfg := &config{byName: map[string]*relay{}, byValue: map[string]*relay{}, ttl: defaultTTL, policy: policies["static"].spec("static")}
	serial := configSerial(c)
	cfg.serial = &serial
	blocks := 0
	for c.Next() {
		if blocks++; blocks > 1 {
			return nil, c.Err(plugin.ErrOnce.Error())
		}
		cfg.pos = posOf(c)
		cfg.zoneArgs = c.RemainingArgs()
		for c.NextBlock() {
			if err := cfg.property(c); err != nil {
				return nil, err
			}
		}
	}
	return cfg.assemble(c.ServerBlockKeys)
}

// property parses one line of the block.
func (cfg *config) property(c *caddy.Controller) error {
	var err error
	switch c.Val() {
	case "relay":
		return cfg.parseRelay(c)
	case "source":
		return cfg.parseSource(c)
	case "policy":
		cfg.policy, err = parsePolicy(c)
	case "answer":
		cfg.answer, err = parseAnswer(c)
	case "any-limit":
		cfg.anyLimit, err = parseAnswer(c)
	case "ttl":
		return cfg.parseTTL(c)
	case "ns":
		return cfg.parseNS(c)
	case "fallthrough":
		cfg.fall.SetZonesFromArgs(c.RemainingArgs())
	case "geoip":
		return cfg.parseGeoIP(c)
	case "zonefile":
		return cfg.parseZonefile(c)
	case "health":
		return cfg.parseHealth(c)
	case "load":
		return cfg.parseLoad(c)
	case "serial":
		return cfg.parseSerial(c)
	case "explain":
		if len(c.RemainingArgs()) != 0 {
			return c.ArgErr()
		}
		cfg.explain = true
	case "readiness":
		cfg.strictReady, err = oneOf(c, map[string]bool{"first-round": false, "strict": true})
	case "all-down":
		cfg.allDown, err = oneOf(c, allDownKeywords)
	default:
		return c.Errf("unknown property '%s'", c.Val())
	}
	return err
}

// oneOf reads a property's single keyword argument, one of the keys of
// choices, and returns its value.
func oneOf[T any](c *caddy.Controller, choices map[string]T) (T, error) {
	var zero T
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return zero, c.ArgErr()
	}
	v, ok := choices[args[0]]
	if !ok {
		names := slices.Sorted(maps.Keys(choices))
		return zero, c.Errf("%s '%s' must be %s or %s", prop, args[0], strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
	return v, nil
}

// parseTTL reads `ttl SECONDS`.
func (cfg *config) parseTTL(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.ArgErr()
	}
	ttl, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil || ttl == 0 || ttl > maxTTL {
		return c.Errf("ttl '%s' must be a number of seconds from 1 to %d", args[0], maxTTL)
	}
	cfg.ttl = uint32(ttl)
	return nil
}

// parseNS reads `ns NAME...`.
func (cfg *config) parseNS(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.ArgErr()
	}
	for _, n := range args {
		if _, ok := dns.IsDomainName(n); !ok {
			return c.Errf("ns '%s' is not a domain name", n)
		}
		cfg.ns = append(cfg.ns, plugin.Name(n).Normalize())
	}
	return nil
}

// parseAnswer reads `answer N` (at most N relays per answer) or
// `any-limit N`.
func parseAnswer(c *caddy.Controller) (int, error) {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 255 {
		return 0, c.Errf("%s '%s' must be a number from 1 to 255", prop, args[0])
	}
	return n, nil
}

// parsePolicy reads `policy NAME [ARGS...]`: NAME is a key of the
// policies table.
func parsePolicy(c *caddy.Controller) (policySpec, error) {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return policySpec{}, c.ArgErr()
	}
	spec, err := parsePolicySpec(args)
	if err != nil {
		return policySpec{}, c.Errf("%v", err)
	}
	return spec, nil
}

// parseGeoIP reads `geoip PATH [{ reload DURATION }]`.
func (cfg *config) parseGeoIP(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.ArgErr()
	}
	path := args[0]
	if root := dnsserver.GetConfig(c).Root; root != "" && !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	g := &geoDB{path: path, interval: defaultGeoIPReload}
	err := nestedBlock(c, func() error {
		switch c.Val() {
		case "reload":
			args := c.RemainingArgs()
			if len(args) != 1 {
				return c.ArgErr()
			}
			d, err := time.ParseDuration(args[0])
			if err != nil || d < 10*time.Millisecond {
				return c.Errf("geoip reload '%s' must be a duration of at least 10ms, such as 5s", args[0])
			}
			g.interval = d
		default:
			return c.Errf("unknown property '%s' in geoip", c.Val())
		}
		return nil
	})
	cfg.geoip = g
	return err
}

// parseSource reads
//
//	source PREFIX... [RELAY...|none] [{ policy NAME; answer N; beacon SOURCE GROUP PORT [{ ... }] }]
func (cfg *config) parseSource(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.ArgErr()
	}
	sd := sourceDirective{pos: posOf(c), group: &group{pos: posOf(c)}}
	for _, arg := range args {
		switch {
		case strings.Contains(arg, "/"):
			p, err := netip.ParsePrefix(arg)
			if err != nil {
				return c.Errf("malformed prefix '%s': want CIDR notation such as 198.51.100.0/24 or 2001:db8:100::/48", arg)
			}
			if p.Addr().Is4In6() || p.Addr().Zone() != "" {
				return c.Errf("malformed prefix '%s': use plain IPv4 or IPv6 notation", arg)
			}
			if p != p.Masked() {
				return c.Errf("prefix '%s' has bits set past its length; did you mean '%s'?", arg, p.Masked())
			}
			sd.prefixes = append(sd.prefixes, p)
		case arg == "none":
			sd.noRelay = true
		default:
			if a, err := netip.ParseAddr(arg); err == nil {
				return c.Errf("malformed prefix '%s': write a prefix in CIDR notation, such as %s/%d", arg, arg, a.BitLen())
			}
			sd.names = append(sd.names, arg)
		}
	}
	if len(sd.prefixes) == 0 {
		return c.Errf("source needs at least one prefix, such as 198.51.100.0/24")
	}
	if sd.noRelay && len(sd.names) > 0 {
		return c.Errf("source lists relays and 'none': choose one")
	}
	err := nestedBlock(c, func() error {
		switch c.Val() {
		case "policy":
			p, err := parsePolicy(c)
			if err != nil {
				return err
			}
			sd.group.spec = p
		case "answer":
			n, err := parseAnswer(c)
			if err != nil {
				return err
			}
			sd.group.limit = n
		case "beacon":
			if sd.noRelay {
				return c.Errf("beacon in a source configured 'none': it has no relays to probe; drop the beacon, or name the relays")
			}
			if sd.beacon != nil {
				return c.Errf("beacon is given twice in source (first on line %d): one beacon per source line; put prefixes with a beacon of their own on a source line of their own", sd.beacon.pos.line)
			}
			b, err := parseBeacon(c, sd.prefixes)
			if err != nil {
				return err
			}
			sd.beacon = b
		default:
			return c.Errf("unknown property '%s' in source", c.Val())
		}
		return nil
	})
	if err != nil {
		return err
	}
	cfg.sources = append(cfg.sources, sd)
	return nil
}

// parseZonefile reads `zonefile PATH [ZONE] [{ reload DURATION }]`.
func (cfg *config) parseZonefile(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 1 && len(args) != 2 {
		return c.ArgErr()
	}
	if cfg.zonefile != nil {
		return c.Errf("zonefile is given twice: one file per block")
	}
	path := args[0]
	if root := dnsserver.GetConfig(c).Root; root != "" && !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	z := &zonefile{path: path, interval: defaultZonefileReload}
	if len(args) == 2 {
		z.origin = plugin.Name(args[1]).Normalize()
	}
	err := nestedBlock(c, func() error {
		if c.Val() != "reload" {
			return c.Errf("unknown property '%s' in zonefile", c.Val())
		}
		d, err := parseDuration(c, 10*time.Millisecond)
		z.interval = d
		return err
	})
	cfg.zonefile = z
	return err
}
