package amtrelay

import (
	"strconv"
	"time"

	"github.com/coredns/caddy"
)

// parseHealth reads
//
//	health [PORT] {
//	    interval DURATION
//	    timeout DURATION
//	    down COUNT
//	    up COUNT
//	    request
//	    fleet URL [QUERY] [{ interval DURATION; timeout DURATION; quorum FRACTION; max-age DURATION }]
//	}
func (cfg *config) parseHealth(c *caddy.Controller) error {
	h := &healthConfig{port: 2268, interval: defaultProbeInterval, timeout: defaultProbeTimeout, downAfter: defaultDownAfter, upAfter: defaultUpAfter}
	switch args := c.RemainingArgs(); len(args) {
	case 0:
	case 1:
		p, err := strconv.ParseUint(args[0], 10, 16)
		if err != nil || p == 0 {
			return c.Errf("health port '%s' must be a UDP port from 1 to 65535", args[0])
		}
		h.port = uint16(p)
	default:
		return c.ArgErr()
	}
	err := nestedBlock(c, func() error {
		var err error
		switch c.Val() {
		case "interval":
			h.interval, err = parseDuration(c, 100*time.Millisecond)
		case "timeout":
			h.timeout, err = parseDuration(c, 10*time.Millisecond)
		case "down":
			h.downAfter, err = parseCount(c)
		case "up":
			h.upAfter, err = parseCount(c)
		case "request":
			if len(c.RemainingArgs()) != 0 {
				return c.ArgErr()
			}
			h.request = true
		case "fleet":
			if h.fleet != nil {
				return c.Errf("fleet is given twice in health: one fleet view per block")
			}
			h.fleet, err = parseFleet(c)
		default:
			return c.Errf("unknown property '%s' in health", c.Val())
		}
		return err
	})
	if err != nil {
		return err
	}
	if h.timeout > h.interval {
		return c.Errf("health timeout %s is longer than its interval %s", h.timeout, h.interval)
	}
	if f := h.fleet; f != nil {
		if f.interval == 0 {
			f.interval = h.interval
		}
		if f.timeout == 0 {
			f.timeout = min(defaultFleetTimeout, f.interval)
		}
		if f.maxAge == 0 {
			f.maxAge = defaultFleetMaxAgeIntervals * f.interval
		}
		if f.timeout > f.interval {
			return c.Errf("health fleet timeout %s is longer than its interval %s", f.timeout, f.interval)
		}
	}
	cfg.health = h
	return nil
}
