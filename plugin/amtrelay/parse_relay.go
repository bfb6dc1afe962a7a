package amtrelay

import (
	"errors"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/coredns/caddy"
	"github.com/miekg/dns"
)

// parseRelay reads a relay in one of two forms:
//
//	relay NAME ADDRESS|DOMAIN [{ ... }]
//	relay NAME PRECEDENCE D-BIT TYPE RELAY [{ ... }]
//
// The first infers the type (1, 2 or 3) from the value, with precedence 0
// and D-bit 0 unless the block says otherwise. The second is the AMTRELAY
// presentation form of RFC 8777 §4.3.1, whose type must match the value.
func (cfg *config) parseRelay(c *caddy.Controller) error {
	pos := posOf(c)
	args := c.RemainingArgs()
	if len(args) != 2 && len(args) != 5 {
		return c.Errf("relay wants 'NAME ADDRESS|DOMAIN' or 'NAME PRECEDENCE D-BIT TYPE RELAY', have %d arguments", len(args))
	}
	name := args[0]
	if err := checkRelayName(name); err != nil {
		return c.Err(err.Error())
	}
	if prev, dup := cfg.byName[name]; dup {
		return c.Errf("duplicate relay name '%s' (first declared on line %d)", name, prev.pos.line)
	}
	b := &relayBlock{name: name, fullForm: len(args) == 5}
	if err := b.parseRecord(c, args[1:]); err != nil {
		return err
	}
	if err := nestedBlock(c, func() error { return b.property(c) }); err != nil {
		return err
	}
	if other, dup := cfg.byValue[relayKey(b.rec)]; dup {
		return pos.errorf("relay '%s' has the same relay as '%s' (line %d): %s", name, other.name, other.pos.line, b.rec)
	}
	r, err := b.relay(pos)
	if err != nil {
		return err
	}
	cfg.relays = append(cfg.relays, r)
	cfg.byName[name] = r
	cfg.byValue[relayKey(b.rec)] = r
	return nil
}

// relayBlock is a relay line and its block while they are read.
type relayBlock struct {
	name string
	rec  amtrelayrr.Relay
	// fullForm is set for the presentation form, which gives precedence
	// and D-bit on the line; precedenceSet and dSet when the block did.
	fullForm, precedenceSet, dSet bool

	location     *point
	capacity     float64
	load, weight *float64
	drained      bool
	metricsURL   string
}

// parseRecord reads the relay's value: an address or a name, or the
// presentation form's four fields.
func (b *relayBlock) parseRecord(c *caddy.Controller, args []string) error {
	if b.fullForm {
		if p, err := strconv.ParseUint(args[0], 10, 64); err != nil || p > 255 {
			return c.Errf("relay '%s': precedence '%s' must be a number from 0 to 255", b.name, args[0])
		}
		if args[1] != "0" && args[1] != "1" {
			return c.Errf("relay '%s': D-bit '%s' must be 0 or 1", b.name, args[1])
		}
		r, err := amtrelayrr.Parse(strings.Join(args, " "))
		if err != nil {
			return c.Errf("relay '%s': %v", b.name, err)
		}
		b.rec = r
	} else {
		b.rec = inferRelay(args[0])
	}
	if b.rec.Type == amtrelayrr.TypeNone {
		return c.Errf("relay '%s' is type 0 (no relay): write 'source PREFIX none' instead", b.name)
	}
	if err := b.rec.Validate(); err != nil {
		return c.Errf("relay '%s': %v", b.name, err)
	}
	return nil
}

// property reads one line of the relay's block.
func (b *relayBlock) property(c *caddy.Controller) error {
	switch c.Val() {
	case "precedence":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		p, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil || p > 255 {
			return c.Errf("relay '%s': precedence '%s' must be a number from 0 to 255", b.name, args[0])
		}
		if b.fullForm || b.precedenceSet {
			return c.Errf("relay '%s': precedence is already given", b.name)
		}
		b.rec.Precedence, b.precedenceSet = uint8(p), true
	case "discovery-optional":
		if len(c.RemainingArgs()) != 0 {
			return c.ArgErr()
		}
		if b.fullForm || b.dSet {
			return c.Errf("relay '%s': the D-bit is already given", b.name)
		}
		b.rec.DiscoveryOptional, b.dSet = true, true
	case "location":
		return b.parseLocation(c)
	case "capacity", "load", "weight":
		return b.parseNumber(c)
	case "metrics":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		u, err := url.Parse(args[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.Errf("relay '%s': metrics '%s' must be an http or https URL", b.name, args[0])
		}
		b.metricsURL = args[0]
	case "drain":
		if len(c.RemainingArgs()) != 0 {
			return c.ArgErr()
		}
		b.drained = true
	default:
		return c.Errf("unknown property '%s' in relay '%s'", c.Val(), b.name)
	}
	return nil
}

// parseLocation reads `location LATITUDE LONGITUDE`.
func (b *relayBlock) parseLocation(c *caddy.Controller) error {
	args := c.RemainingArgs()
	if len(args) != 2 {
		return c.Errf("relay '%s': location wants LATITUDE LONGITUDE in degrees, such as 'location 52.2053 0.1218'", b.name)
	}
	lat, err1 := strconv.ParseFloat(args[0], 64)
	lon, err2 := strconv.ParseFloat(args[1], 64)
	p, err := newPoint(lat, lon)
	if err1 != nil || err2 != nil || err != nil {
		return c.Errf("relay '%s': location '%s %s' must be a latitude in [-90, 90] and a longitude in [-180, 180]", b.name, args[0], args[1])
	}
	b.location = &p
	return nil
}

// parseNumber reads `capacity N`, `load N` or `weight N`.
func (b *relayBlock) parseNumber(c *caddy.Controller) error {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.ArgErr()
	}
	v, err := strconv.ParseFloat(args[0], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (prop == "capacity" && v == 0) {
		return c.Errf("relay '%s': %s '%s' must be a finite number, at least 0 (capacity above 0)", b.name, prop, args[0])
	}
	switch prop {
	case "capacity":
		b.capacity = v
	case "load":
		b.load = &v
	case "weight":
		b.weight = &v
	}
	return nil
}

// relay makes the relay the line and block describe.
func (b *relayBlock) relay(pos position) (*relay, error) {
	r, err := newRelay(b.name, b.rec, pos)
	if err != nil {
		return nil, pos.errorf("relay '%s': %v", b.name, err)
	}
	if b.location != nil {
		r.configured, r.hasLocation = *b.location, true
	}
	r.drained = b.drained
	r.metricsURL = b.metricsURL
	if b.capacity > 0 {
		r.capacity = b.capacity
	}
	if b.weight != nil {
		r.weight = *b.weight
	}
	if b.load != nil {
		r.setLoad(*b.load, time.Time{}, true)
	}
	return r, nil
}

// inferRelay makes a type-1, -2 or -3 relay from an address or a name.
func inferRelay(value string) amtrelayrr.Relay {
	if a, err := netip.ParseAddr(value); err == nil {
		return amtrelayrr.ForAddr(0, false, a)
	}
	return amtrelayrr.ForName(0, false, strings.ToLower(value))
}

// checkRelayName rejects names that would read as something else in a
// source line.
func checkRelayName(name string) error {
	if name == "none" || strings.Contains(name, "/") {
		return errors.New("relay name '" + name + "' is reserved or looks like a prefix: choose a plain name such as 'lon1'")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return errors.New("relay name '" + name + "' is an address: give the relay a name first, as in 'relay lon1 " + name + "'")
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return errors.New("relay name '" + name + "' is not a valid name")
	}
	return nil
}

// relayKey identifies a relay by its value, whatever its precedence and
// D-bit: two relay lines with the same key would be the same relay.
func relayKey(r amtrelayrr.Relay) string {
	if r.Type == amtrelayrr.TypeName {
		return strings.ToLower(r.Name)
	}
	return r.Addr.String()
}
