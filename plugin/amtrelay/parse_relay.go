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

	var rec amtrelayrr.Relay
	fullForm := len(args) == 5
	if fullForm {
		if p, err := strconv.ParseUint(args[1], 10, 64); err != nil || p > 255 {
			return c.Errf("relay '%s': precedence '%s' must be a number from 0 to 255", name, args[1])
		}
		if args[2] != "0" && args[2] != "1" {
			return c.Errf("relay '%s': D-bit '%s' must be 0 or 1", name, args[2])
		}
		r, err := amtrelayrr.Parse(strings.Join(args[1:], " "))
		if err != nil {
			return c.Errf("relay '%s': %v", name, err)
		}
		rec = r
	} else {
		rec = inferRelay(args[1])
	}
	if rec.Type == amtrelayrr.TypeNone {
		return c.Errf("relay '%s' is type 0 (no relay): write 'source PREFIX none' instead", name)
	}
	if err := rec.Validate(); err != nil {
		return c.Errf("relay '%s': %v", name, err)
	}

	var precedenceSet, dSet bool
	var attrs struct {
		location     *point
		capacity     float64
		load, weight *float64
		drained      bool
		metricsURL   string
	}
	err := nestedBlock(c, func() error {
		switch c.Val() {
		case "precedence":
			args := c.RemainingArgs()
			if len(args) != 1 {
				return c.ArgErr()
			}
			p, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || p > 255 {
				return c.Errf("relay '%s': precedence '%s' must be a number from 0 to 255", name, args[0])
			}
			if fullForm || precedenceSet {
				return c.Errf("relay '%s': precedence is already given", name)
			}
			rec.Precedence, precedenceSet = uint8(p), true
		case "discovery-optional":
			if len(c.RemainingArgs()) != 0 {
				return c.ArgErr()
			}
			if fullForm || dSet {
				return c.Errf("relay '%s': the D-bit is already given", name)
			}
			rec.DiscoveryOptional, dSet = true, true
		case "location":
			args := c.RemainingArgs()
			if len(args) != 2 {
				return c.Errf("relay '%s': location wants LATITUDE LONGITUDE in degrees, such as 'location 52.2053 0.1218'", name)
			}
			lat, err1 := strconv.ParseFloat(args[0], 64)
			lon, err2 := strconv.ParseFloat(args[1], 64)
			p, err := newPoint(lat, lon)
			if err1 != nil || err2 != nil || err != nil {
				return c.Errf("relay '%s': location '%s %s' must be a latitude in [-90, 90] and a longitude in [-180, 180]", name, args[0], args[1])
			}
			attrs.location = &p
		case "capacity", "load", "weight":
			prop := c.Val()
			args := c.RemainingArgs()
			if len(args) != 1 {
				return c.ArgErr()
			}
			v, err := strconv.ParseFloat(args[0], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (prop == "capacity" && v == 0) {
				return c.Errf("relay '%s': %s '%s' must be a finite number, at least 0 (capacity above 0)", name, prop, args[0])
			}
			switch prop {
			case "capacity":
				attrs.capacity = v
			case "load":
				attrs.load = &v
			case "weight":
				attrs.weight = &v
			}
		case "metrics":
			args := c.RemainingArgs()
			if len(args) != 1 {
				return c.ArgErr()
			}
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c.Errf("relay '%s': metrics '%s' must be an http or https URL", name, args[0])
			}
			attrs.metricsURL = args[0]
		case "drain":
			if len(c.RemainingArgs()) != 0 {
				return c.ArgErr()
			}
			attrs.drained = true
		default:
			return c.Errf("unknown property '%s' in relay '%s'", c.Val(), name)
		}
		return nil
	})
	if err != nil {
		return err
	}

	if other, dup := cfg.byValue[relayKey(rec)]; dup {
		return pos.errorf("relay '%s' has the same relay as '%s' (line %d): %s", name, other.name, other.pos.line, rec)
	}
	r, err := newRelay(name, rec, pos)
	if err != nil {
		return pos.errorf("relay '%s': %v", name, err)
	}
	if attrs.location != nil {
		r.configured, r.hasLocation = *attrs.location, true
	}
	r.drained = attrs.drained
	r.metricsURL = attrs.metricsURL
	if attrs.capacity > 0 {
		r.capacity = attrs.capacity
	}
	if attrs.weight != nil {
		r.weight = *attrs.weight
	}
	if attrs.load != nil {
		r.setLoad(*attrs.load, time.Time{}, true)
	}
	cfg.relays = append(cfg.relays, r)
	cfg.byName[name] = r
	cfg.byValue[relayKey(rec)] = r
	return nil
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
