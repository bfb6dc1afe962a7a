// Package version says which amtrelay is built in: the module version and,
// when the binary was built from a checkout, the VCS revision, read from
// the build information Go embeds (runtime/debug.ReadBuildInfo).
package version

import (
	"runtime/debug"
	"strings"
)

// Module is this project's module path.
const Module = "github.com/amtrelay/amtrelay"

// String returns "VERSION [REVISION[+dirty]]": the version of this module
// as the binary has it, whether the module is the main one (go build in
// the repository: "(devel)" with the revision) or a dependency (stock
// CoreDNS built with the plugin: the required version). "(unknown)" when
// the binary carries no build information.
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	v := ""
	switch {
	case bi.Main.Path == Module:
		v = bi.Main.Version
	default:
		for _, d := range bi.Deps {
			if d.Path == Module {
				v = d.Version
				if d.Replace != nil {
					v += " => " + d.Replace.Path
					if d.Replace.Version != "" {
						v += " " + d.Replace.Version
					}
				}
			}
		}
	}
	if v == "" {
		v = "(unknown)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if bi.Main.Path == Module && rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return strings.TrimSpace(v)
}
