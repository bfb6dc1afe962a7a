package amtrelay

import (
	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"
)

const pluginName = "amtrelay"

var log = clog.NewWithPlugin(pluginName)

func init() {
	plugin.Register(pluginName, setup)
	// CoreDNS refuses every class but IN before plugins run unless a plugin
	// opts in. AMTRELAY is class independent (RFC 8777 §4.1): this plugin
	// answers class ANY as IN and refuses the rest itself (see checkQuery).
	dnsserver.EnableChaos[pluginName] = struct{}{}
}

func setup(c *caddy.Controller) error {
	a, err := parse(c)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		a.Next = next
		return a
	})
	return nil
}
