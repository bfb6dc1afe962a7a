package amtrelay

import (
	"net/url"
	"strconv"
	"time"

	"github.com/coredns/caddy"
)

// parseFleet reads, in the health block,
//
//	fleet URL [QUERY] [{
//	    interval DURATION
//	    timeout DURATION
//	    quorum FRACTION
//	    max-age DURATION
//	}]
//
// interval, timeout and max-age are left 0 for parseHealth's defaults,
// which depend on the health interval.
func parseFleet(c *caddy.Controller) (*fleetConfig, error) {
	args := c.RemainingArgs()
	if len(args) != 1 && len(args) != 2 {
		return nil, c.Errf("fleet wants a Prometheus server URL and, optionally, a PromQL query, such as fleet http://127.0.0.1:9090")
	}
	u, err := url.Parse(args[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, c.Errf("fleet '%s' must be an http or https URL of a Prometheus server, such as http://127.0.0.1:9090", args[0])
	}
	f := &fleetConfig{url: args[0], quorum: defaultFleetQuorum}
	if len(args) == 2 {
		f.query = args[1]
	}
	err = nestedBlock(c, func() error {
		var err error
		switch c.Val() {
		case "interval":
			f.interval, err = parseDuration(c, 100*time.Millisecond)
		case "timeout":
			f.timeout, err = parseDuration(c, 10*time.Millisecond)
		case "max-age":
			f.maxAge, err = parseDuration(c, 100*time.Millisecond)
		case "quorum":
			a := c.RemainingArgs()
			if len(a) != 1 {
				return c.ArgErr()
			}
			q, perr := strconv.ParseFloat(a[0], 64)
			if perr != nil || !(q > 0 && q <= 1) {
				return c.Errf("fleet quorum '%s' must be a share of the reporting instances, above 0 and at most 1, such as 0.5", a[0])
			}
			f.quorum = q
		default:
			return c.Errf("unknown property '%s' in fleet", c.Val())
		}
		return err
	})
	return f, err
}
