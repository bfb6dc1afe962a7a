package corebuild

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/caddy/caddyfile"
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
		{"(snippet) {\n    whoami\n}\n", true},
		{"# comment\r\n\t(snippet) {\n    whoami\n}\n", true},
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

// TestServerBlockShortcutAgreesWithParse checks the shortcut that spares
// checkServerBlocks a second full parse: whenever it says a Corefile opens
// a server block, caddy's parser finds one.
func TestServerBlockShortcutAgreesWithParse(t *testing.T) {
	t.Setenv("AMTRELAY_TEST_EMPTY", "")
	shortcuts := 0
	for _, in := range []string{
		"", "\n \t\r\n", "# only a comment", "#a\n#b\n",
		".:53 {\n    whoami\n}\n",
		"   example.org:1053 {\n whoami\n}",
		"# comment { }\n.:53 {\n whoami\n}",
		".:53#comment\n{\n whoami\n}",
		"\ufeff.:53 {\n whoami\n}",
		"(snippet) {\n whoami\n}\n",
		"(snippet) {\n whoami\n}\n.:53 {\n import snippet\n}\n",
		"import /nonexistent/amtrelay-test-*.conf\n",
		"{$AMTRELAY_TEST_EMPTY}\n",
		"{$AMTRELAY_TEST_EMPTY} {\n whoami\n}\n",
		"{\n whoami\n}\n",
		"\".:53\" {\n whoami\n}\n",
		"\"\"\n",
		".:53 {\n whoami\n", // does not parse: left to caddy
	} {
		blocks, err := caddyfile.Parse("Corefile", strings.NewReader(in), nil)
		first := firstToken([]byte(in))
		if opensServerBlock(first) {
			shortcuts++
			if err == nil && len(blocks) == 0 {
				t.Errorf("%q: the shortcut says a server block opens (first token %q), caddy parses none", in, first)
			}
		}
		refused := checkServerBlocks("Corefile", []byte(in)) != nil
		if none := err == nil && len(blocks) == 0; refused != none {
			t.Errorf("%q: refused %v, want %v (caddy parses %d server blocks, error %v)", in, refused, none, len(blocks), err)
		}
	}
	if shortcuts < 5 {
		t.Errorf("the shortcut decided %d Corefiles, want the 5 or more that open with an address", shortcuts)
	}
}
