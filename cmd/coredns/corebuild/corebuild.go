// Package corebuild assembles the custom CoreDNS of this project: every
// in-tree CoreDNS plugin, plus amtrelay, placed in the plugin chain just
// before "file". Import it for its side effects, as cmd/coredns and the
// integration tests do.
package corebuild

import (
	"fmt"
	"slices"

	_ "github.com/amtrelay/amtrelay/plugin/amtrelay" // the amtrelay plugin

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every in-tree plugin
)

// Plugin is the directive this build adds, and Before the directive it goes
// in front of.
const (
	Plugin = "amtrelay"
	Before = "file"
)

func init() {
	d, err := insertBefore(dnsserver.Directives, Plugin, Before)
	if err != nil {
		panic(err)
	}
	dnsserver.Directives = d
}

// insertBefore returns directives with name inserted just before anchor,
// found by name. It is a no-op if name is already there.
func insertBefore(directives []string, name, anchor string) ([]string, error) {
	if slices.Contains(directives, name) {
		return directives, nil
	}
	i := slices.Index(directives, anchor)
	if i < 0 {
		return nil, fmt.Errorf("corebuild: CoreDNS has no %q directive to put %q before", anchor, name)
	}
	return slices.Insert(slices.Clone(directives), i, name), nil
}
