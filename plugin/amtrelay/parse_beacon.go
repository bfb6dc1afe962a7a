package amtrelay

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/amtrelay/amtrelay/amt"

	"github.com/coredns/caddy"
)

// parseBeacon reads, in a source block,
//
//	beacon SOURCE GROUP PORT [{
//	    interval DURATION
//	    timeout DURATION
//	    concurrency N
//	    down COUNT
//	    up COUNT
//	    relay-port PORT
//	}]
//
// SOURCE must lie in one of the source line's prefixes (prefixes): the
// beacon vouches for the paths to those sources, and for no others.
func parseBeacon(c *caddy.Controller, prefixes []netip.Prefix) (*beaconConfig, error) {
	pos := posOf(c)
	args := c.RemainingArgs()
	const want = "beacon wants SOURCE GROUP PORT: the (S,G) channel and UDP port the source keeps sending, such as beacon 198.51.100.7 232.1.1.1 5001"
	if len(args) != 3 {
		return nil, c.Errf("%s; have %d argument(s)", want, len(args))
	}
	s, err := netip.ParseAddr(args[0])
	if err != nil || s.Zone() != "" || s.Is4In6() || s.IsMulticast() || s.IsUnspecified() {
		return nil, c.Errf("beacon source '%s' must be a unicast IPv4 or IPv6 address; %s", args[0], want)
	}
	if !inAny(s, prefixes) {
		return nil, c.Errf("beacon source %s is in none of this source's prefixes (%s): a beacon vouches only for the sources it is sent from; put the beacon on the source line of its prefix", s, prefixList(prefixes))
	}
	g, err := netip.ParseAddr(args[1])
	if err != nil || g.Zone() != "" || g.Is4In6() || !g.IsMulticast() || g.Is4() != s.Is4() {
		family := "IPv6"
		if s.Is4() {
			family = "IPv4"
		}
		return nil, c.Errf("beacon group '%s' must be an %s multicast group, as its source %s is %s, such as %s", args[1], family, s, family, exampleGroup(s))
	}
	port, err := strconv.ParseUint(args[2], 10, 16)
	if err != nil || port == 0 {
		return nil, c.Errf("beacon port '%s' must be the beacon's UDP destination port, from 1 to 65535", args[2])
	}
	b := &beaconConfig{
		pos:         pos,
		ch:          amt.Channel{Source: s, Group: g},
		port:        uint16(port),
		interval:    defaultBeaconInterval,
		timeout:     defaultBeaconTimeout,
		concurrency: defaultBeaconConcurrency,
		downAfter:   defaultBeaconDown,
		upAfter:     defaultBeaconUp,
	}
	err = nestedBlock(c, func() error {
		var err error
		switch c.Val() {
		case "interval":
			b.interval, err = parseDuration(c, 100*time.Millisecond)
		case "timeout":
			b.timeout, err = parseDuration(c, 10*time.Millisecond)
		case "concurrency":
			b.concurrency, err = parseCount(c)
		case "down":
			b.downAfter, err = parseCount(c)
		case "up":
			b.upAfter, err = parseCount(c)
		case "relay-port":
			a := c.RemainingArgs()
			if len(a) != 1 {
				return c.ArgErr()
			}
			p, perr := strconv.ParseUint(a[0], 10, 16)
			if perr != nil || p == 0 {
				return c.Errf("beacon relay-port '%s' must be the relays' AMT UDP port, from 1 to 65535 (default: the health port, else 2268)", a[0])
			}
			b.relayPort = uint16(p)
		default:
			return c.Errf("unknown property '%s' in beacon: want interval, timeout, concurrency, down, up or relay-port", c.Val())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if b.timeout > b.interval {
		return nil, c.Errf("beacon timeout %s is longer than its interval %s", b.timeout, b.interval)
	}
	return b, nil
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func prefixList(prefixes []netip.Prefix) string {
	s := make([]string, len(prefixes))
	for i, p := range prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// exampleGroup is a source-specific multicast group of a's family (RFC
// 4607 §1: 232.0.0.0/8, FF3x::/32), for error messages.
func exampleGroup(a netip.Addr) string {
	if a.Is4() {
		return "232.1.1.1"
	}
	return "ff3e::8000:1"
}
