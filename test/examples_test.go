package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/dnskeytest"
	"github.com/amtrelay/amtrelay/internal/geotest"

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
			udp, _ := startCoreDNS(t, prepareCorefile(t, exampleCorefile(t, name)))
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

// exampleGeoIP is the database path the examples name, and exampleKey the
// key pair's base name.
const (
	exampleGeoIP = "corefile-examples/example-city.mmdb"
	exampleKey   = "corefile-examples/example-dnssec"
)

// prepareCorefile makes what a Corefile needs before it can start: the
// example GeoIP database and DNSSEC key pair are generated, by the same
// code as go generate runs, into temporary files the returned Corefile
// names instead.
func prepareCorefile(t testing.TB, corefile string) string {
	t.Helper()
	if strings.Contains(corefile, exampleGeoIP) {
		path := filepath.Join(t.TempDir(), "example-city.mmdb")
		if err := geotest.Write(path, geotest.Example); err != nil {
			t.Fatal(err)
		}
		corefile = strings.ReplaceAll(corefile, exampleGeoIP, path)
	}
	if strings.Contains(corefile, exampleKey) {
		base := filepath.Join(t.TempDir(), "example-dnssec")
		if _, err := dnskeytest.Write(base, "100.51.198.in-addr.arpa."); err != nil {
			t.Fatal(err)
		}
		corefile = strings.ReplaceAll(corefile, exampleKey, base)
	}
	return corefile
}
