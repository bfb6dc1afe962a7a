package corebuild

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
)

func TestTakeConf(t *testing.T) {
	for _, tc := range []struct {
		args, rest []string
		path       string
		taken      bool
	}{
		{[]string{"-conf", "a.corefile"}, nil, "a.corefile", true},
		{[]string{"-dns.port", "1053", "--conf=x/../b.corefile", "-quiet"}, []string{"-dns.port", "1053", "-quiet"}, "b.corefile", true},
		{[]string{"-conf=c"}, nil, "c", true},
		{[]string{"-quiet"}, []string{"-quiet"}, caddy.DefaultConfigFile, true},
		{[]string{"-conf", "stdin"}, []string{"-conf", "stdin"}, caddy.DefaultConfigFile, false},
		{[]string{"-conf"}, []string{"-conf"}, caddy.DefaultConfigFile, true},
		{[]string{"--", "-conf", "x"}, []string{"--", "-conf", "x"}, caddy.DefaultConfigFile, true},
	} {
		rest := TakeConf(tc.args)
		if !slices.Equal(rest, tc.rest) || confPath != tc.path || confTaken != tc.taken {
			t.Errorf("TakeConf(%q) = %q, path %q taken %v; want %q, %q, %v", tc.args, rest, confPath, confTaken, tc.rest, tc.path, tc.taken)
		}
	}
	confPath, confTaken = "", false
}

// TestLoadCorefileRefusesNoServerBlock: an empty Corefile, or one of
// comments and blank lines only, is refused with an error that says what
// to do; one that does not parse is left to caddy; a good one loads.
func TestLoadCorefileRefusesNoServerBlock(t *testing.T) {
	dir := t.TempDir()
	defer func() { confPath, confTaken = "", false }()
	for _, tc := range []struct {
		contents string
		refused  bool
	}{
		{"", true},
		{"\n\n   \n", true},
		{"# being written\n", true},
		{".:1053 {\n    whoami\n}\n", false},
		{".:1053 {\n    whoami\n", false}, // caddy reports the parse error, with file and line
	} {
		path := filepath.Join(dir, "Corefile")
		if err := os.WriteFile(path, []byte(tc.contents), 0o644); err != nil {
			t.Fatal(err)
		}
		TakeConf([]string{"-conf", path})
		in, err := loadCorefile("dns")
		if tc.refused {
			if err == nil || !strings.Contains(err.Error(), "no server block") || !strings.Contains(err.Error(), "rename it into place") {
				t.Errorf("%q: loaded (%v), want refused", tc.contents, err)
			}
			continue
		}
		if err != nil || in == nil || string(in.Body()) != tc.contents || in.Path() != path {
			t.Errorf("%q: %v, %v", tc.contents, in, err)
		}
	}
	confPath, confTaken = "", false
	if in, err := loadCorefile("dns"); in != nil || err != nil {
		t.Errorf("before TakeConf the loader loaded %v, %v", in, err)
	}
}
