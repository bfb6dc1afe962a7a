package amtrelay

import (
	"time"

	"github.com/coredns/caddy"

	"github.com/prometheus/common/model"
)

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
			src, err := parsePromSource(c)
			if src != nil {
				cfg.promSources = append(cfg.promSources, src)
			}
			return err
		case "scrape":
			src, err := parseScrapeSource(c)
			if src != nil {
				cfg.scrapeSources = append(cfg.scrapeSources, src)
			}
			return err
		}
		return c.Errf("unknown property '%s' in load", c.Val())
	})
}

// parsePromSource reads `prometheus URL QUERY [{ ... }]`.
func parsePromSource(c *caddy.Controller) (*promSource, error) {
	args := c.RemainingArgs()
	if len(args) != 2 {
		return nil, c.Errf("prometheus wants a server URL and a PromQL query, such as prometheus http://127.0.0.1:9090 \"amt_relay_tunnels\"")
	}
	src, err := newPromSource(args[0], args[1])
	if err != nil {
		return nil, c.Errf("prometheus server '%s': %v", args[0], err)
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
	return src, err
}

// parseScrapeSource reads `scrape METRIC [URL-TEMPLATE] [{ ... }]`.
func parseScrapeSource(c *caddy.Controller) (*scrapeSource, error) {
	args := c.RemainingArgs()
	if len(args) != 1 && len(args) != 2 {
		return nil, c.Errf("scrape wants a metric name and, optionally, a URL template such as http://{address}:9100/metrics")
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
	return s, err
}
