package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"built in the repository", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "(devel) 0123456789ab+dirty"},
		{"a tagged build", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.3.0"}}, "v0.3.0"},
		{"a dependency of stock CoreDNS", debug.BuildInfo{Main: debug.Module{Path: "github.com/coredns/coredns"},
			Deps: []*debug.Module{{Path: Module, Version: "v0.0.0", Replace: &debug.Module{Path: "/src/amtrelay"}}}}, "v0.0.0 => /src/amtrelay"},
		{"not built in", debug.BuildInfo{Main: debug.Module{Path: "example.org/x"}}, "(unknown)"},
	} {
		if got := fromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
