package test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// corefileBlock matches a "~~~ corefile" block of a README.
var corefileBlock = regexp.MustCompile("(?s)~~~ corefile\n(.*?)~~~")

// TestReadmeCorefiles starts every "~~~ corefile" block of the plugin's
// README, as CoreDNS's own test/readme_test.go does for its plugins.
func TestReadmeCorefiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "plugin", "amtrelay", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := corefileBlock.FindAllStringSubmatch(string(b), -1)
	if len(blocks) == 0 {
		t.Fatal("no corefile blocks found")
	}
	for i, m := range blocks {
		corefile := portRE.ReplaceAllString(m[1], "${1}:0${2}")
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			startCoreDNS(t, prepareCorefile(t, corefile))
		})
	}
}
