package amtrelay

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"

	"github.com/amtrelay/amtrelay/internal/version"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
)

const pluginName = "amtrelay"

var log = clog.NewWithPlugin(pluginName)

// logVersion logs the plugin's version once per process.
var logVersion sync.Once

func init() {
	plugin.Register(pluginName, setup)
	// CoreDNS refuses every class but IN before plugins run unless a plugin
	// opts in. AMTRELAY is class independent (RFC 8777 §4.1): this plugin
	// answers class ANY as IN and refuses the rest itself (see checkQuery).
	dnsserver.EnableChaos[pluginName] = struct{}{}
}

func setup(c *caddy.Controller) error {
	logVersion.Do(func() { log.Infof("amtrelay %s", version.String()) })
	a, err := parse(c)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	config := dnsserver.GetConfig(c)
	c.OnStartup(func() error {
		if err := a.checkServerBlock(config); err != nil {
			return plugin.Error(pluginName, err)
		}
		return nil
	})
	// Workers start when the whole instance has started (lifecycle.go).
	remember(c, a)
	c.OnShutdown(a.shutdown)
	config.AddPlugin(func(next plugin.Handler) plugin.Handler {
		a.Next = next
		return a
	})
	return nil
}

// checkServerBlock looks at the plugins around this one, once the server
// block is assembled.
func (a *AMTRelay) checkServerBlock(config *dnsserver.Config) error {
	a.setServerLabel(serverLabel(config))
	a.writesBytes = writesBytesSafely(config.Transport, config.Handlers())
	// The cache plugin keys on name, type, class and the DO and CD bits
	// only: it would hand one client's tailored answer to every client.
	if config.Handler("cache") != nil {
		for _, g := range a.groups {
			if g.locates {
				return a.pos.errorf("policy %s (line %d) tailors answers to each client, and the cache plugin in this server block would serve one client's answer to all: remove cache, or use a policy that does not depend on the client (%s)",
					g.spec.name, g.pos.line, strings.Join(policyNames(false), ", "))
			}
		}
	}
	// rewrite may add or change the ECS option after it arrived, so the
	// received OPT length no longer tells the address length.
	if config.Handler("rewrite") != nil {
		a.checkECSLength = false
		log.Infof("%s", fmt.Sprintf("%s:%d: rewrite is in this server block, so ECS address lengths are not checked against the OPT record as received", a.pos.file, a.pos.line))
	}
	return nil
}

// startup starts what runs in the background: the GeoIP watcher, the
// health probes and the load pollers. The instance startup hook calls it
// (lifecycle.go); tests call it directly.
func (a *AMTRelay) startup() error {
	for _, r := range a.relays {
		if v, _, static, ok := r.loadReading(); ok && static {
			relayLoad.WithLabelValues(r.server, r.name).Set(v)
		}
	}
	a.workers.start()
	return nil
}

// shutdown stops them all and waits for them; it runs on every reload
// too, before the new configuration starts its own.
func (a *AMTRelay) shutdown() error {
	a.workers.stop()
	return nil
}

// geoLoaded runs after a GeoIP database loads, off the query path: relays
// without a configured location are placed by their address, the
// nearest-relay indexes and ECS scope tables are rebuilt and swapped in,
// and load orders are retired.
func (a *AMTRelay) geoLoaded(db *geoReader) {
	for i, r := range a.relays {
		if i%yieldEvery == 0 {
			runtime.Gosched() // a reload must not hold up the queries of a one-CPU server
		}
		if r.hasLocation || !r.record.Addr.IsValid() {
			continue
		}
		if l := db.lookup(r.record.Addr); l.known {
			p := l.point()
			r.geo.Store(&p)
		} else {
			r.geo.Store(nil)
		}
	}
	locateGroups(a.groups)
	a.buildScopes(db)
	a.sel.changed()
}

// serverLabel is the server label CoreDNS's metrics give this server
// block's queries (metrics.WithServer): the transport and the listen
// address, as dnsserver groups configurations into servers. With several
// bind addresses, the first one's.
func serverLabel(config *dnsserver.Config) string {
	host := ""
	if len(config.ListenHosts) > 0 {
		host = config.ListenHosts[0]
	}
	addr := net.JoinHostPort(host, config.Port)
	if a, err := net.ResolveTCPAddr("tcp", addr); err == nil {
		addr = a.String()
	}
	return config.Transport + "://" + addr
}

// setServerLabel gives the relays' metrics their server label, before the
// workers that write them start.
func (a *AMTRelay) setServerLabel(server string) {
	for _, r := range a.relays {
		r.server = server
	}
}
