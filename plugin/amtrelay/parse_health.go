package amtrelay

import (
	"strconv"
	"time"

	"github.com/coredns/caddy"
	"github.com/prometheus/common/model"
)

// parseDuration reads a property's single duration argument.
func parseDuration(c *caddy.Controller, least time.Duration) (time.Duration, error) {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < least {
		return 0, c.Errf("%s '%s' must be a duration of at least %s, such as 1s or 500ms", prop, args[0], least)
	}
	return d, nil
}

// parseCount reads a property's single count argument, 1 to 100.
func parseCount(c *caddy.Controller) (int, error) {
	prop := c.Val()
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 100 {
		return 0, c.Errf("%s '%s' must be a number from 1 to 100", prop, args[0])
	}
	return n, nil
}

// parseHealth reads
//
//	health [PORT] {
//	    interval DURATION
//	    timeout DURATION
//	    down COUNT
//	    up COUNT
//	    request
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
	cfg.health = h
	return nil
}

// parseLoad reads
//
//	load {
//	    max-age DURATION
//	    prometheus URL QUERY [{ label NAME; interval DURATION; timeout DURATION }]
//	    scrape METRIC [URL-TEMPLATE] [{ interval DURATION; timeout DURATION }]
//	}
func (cfg *config) parseLoad(c *caddy.Controller) error {
	if len(c.RemainingArgs()) != 0 {
		return c.ArgErr()
	}
	if cfg.loadMaxAge == 0 {
		cfg.loadMaxAge = defaultLoadMaxAge
	}
	return nestedBlock(c, func() error {
		switch c.Val() {
		case "max-age":
			d, err := parseDuration(c, time.Second)
			cfg.loadMaxAge = d
			return err
		case "prometheus":
			args := c.RemainingArgs()
			if len(args) != 2 {
				return c.Errf("prometheus wants a server URL and a PromQL query, such as prometheus http://127.0.0.1:9090 \"amt_relay_tunnels\"")
			}
			src, err := newPromSource(args[0], args[1])
			if err != nil {
				return c.Errf("prometheus server '%s': %v", args[0], err)
			}
			err = nestedBlock(c, func() error {
				var err error
				switch c.Val() {
				case "label":
					a := c.RemainingArgs()
					if len(a) != 1 {
						return c.ArgErr()
					}
					src.label = model.LabelName(a[0])
				case "interval":
					src.interval, err = parseDuration(c, 100*time.Millisecond)
				case "timeout":
					src.timeout, err = parseDuration(c, 10*time.Millisecond)
				default:
					return c.Errf("unknown property '%s' in prometheus", c.Val())
				}
				return err
			})
			cfg.promSources = append(cfg.promSources, src)
			return err
		case "scrape":
			args := c.RemainingArgs()
			if len(args) != 1 && len(args) != 2 {
				return c.Errf("scrape wants a metric name and, optionally, a URL template such as http://{address}:9100/metrics")
			}
			s := &scrapeSource{metric: args[0], interval: defaultLoadInterval, timeout: defaultLoadTimeout}
			if len(args) == 2 {
				s.template = args[1]
			}
			err := nestedBlock(c, func() error {
				var err error
				switch c.Val() {
				case "interval":
					s.interval, err = parseDuration(c, 100*time.Millisecond)
				case "timeout":
					s.timeout, err = parseDuration(c, 10*time.Millisecond)
				default:
					return c.Errf("unknown property '%s' in scrape", c.Val())
				}
				return err
			})
			cfg.scrapeSources = append(cfg.scrapeSources, s)
			return err
		}
		return c.Errf("unknown property '%s' in load", c.Val())
	})
}
