package amtrelay

import (
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
)

// geoAgeCollector exports coredns_amtrelay_geoip_database_age_seconds: how
// old each GeoIP database in use is, from its build epoch, computed when
// scraped, so that an alert can tell a database that stopped being
// updated. A database counts while its watcher runs.
type geoAgeCollector struct {
	desc *prometheus.Desc
	now  func() time.Time

	mu  sync.Mutex
	dbs map[*geoDB]struct{}
}

var geoAges = &geoAgeCollector{
	desc: prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, pluginName, "geoip_database_age_seconds"),
		"Age of the GeoIP database in use, from its build epoch, by file.", []string{"path"}, nil),
	now: time.Now,
	dbs: map[*geoDB]struct{}{},
}

func init() { prometheus.MustRegister(geoAges) }

func (c *geoAgeCollector) add(g *geoDB) {
	c.mu.Lock()
	c.dbs[g] = struct{}{}
	c.mu.Unlock()
}

func (c *geoAgeCollector) remove(g *geoDB) {
	c.mu.Lock()
	delete(c.dbs, g)
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *geoAgeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. Server blocks that read the
// same file give one series: the oldest database loaded from it.
func (c *geoAgeCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	ages := map[string]float64{}
	c.mu.Lock()
	for g := range c.dbs {
		r := g.reader()
		if r == nil {
			continue
		}
		built := time.Unix(int64(r.db.Metadata().BuildEpoch), 0)
		if age, ok := ages[g.path]; !ok || now.Sub(built).Seconds() > age {
			ages[g.path] = now.Sub(built).Seconds()
		}
	}
	c.mu.Unlock()
	for path, age := range ages {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, age, path)
	}
}
