package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"
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
		corefile := readmeCorefile(m[1])
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			startCoreDNS(t, prepareCorefile(t, corefile))
		})
	}
}

// readmeCorefile is a README block ready to start from the test folder:
// port 0, and files named from the repository root found from here.
func readmeCorefile(block string) string {
	corefile := portRE.ReplaceAllString(block, "${1}:0${2}")
	return strings.ReplaceAll(corefile, "file corefile-examples/", "file ../corefile-examples/")
}

// TestReadmeFallthroughExample: the README's /16 example answers AMTRELAY
// for its two /24s from the plugin and the rest of the zone from the zone
// file, through fallthrough.
func TestReadmeFallthroughExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "plugin", "amtrelay", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, m := range corefileBlock.FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "fallthrough") && strings.Contains(m[1], "file ") {
			block = m[1]
		}
	}
	if block == "" {
		t.Fatal("the README has no fallthrough example with a file line")
	}
	udp, _ := startCoreDNS(t, readmeCorefile(block))
	r := query(t, "udp", udp, new(dns.Msg).SetQuestion("1.102.51.198.in-addr.arpa.", dns.TypePTR))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "mail.example.net." {
		t.Errorf("PTR from the zone file: %v", r)
	}
	r = query(t, "udp", udp, new(dns.Msg).SetQuestion("1.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY))
	if got := relayStrings(t, r); len(got) != 2 {
		t.Errorf("AMTRELAY from the plugin: %q", got)
	}
	r = query(t, "udp", udp, new(dns.Msg).SetQuestion("9.104.51.198.in-addr.arpa.", dns.TypePTR))
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("a name in neither: %s", dns.RcodeToString[r.Rcode])
	}
}
