package amtrelay

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/geotest"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestGeoIPHotReload: a new database file is picked up; a corrupt one is
// logged and counted and the last good one keeps serving.
func TestGeoIPHotReload(t *testing.T) {
	path := writeGeo(t, geotest.Example)
	corefile := strings.Replace(closestCorefile, "geoip GEOIP", "geoip "+path+" {\n\t\treload 20ms\n\t}", 1)
	a := startedHandler(t, corefile, nil)
	london := "203.0.113.0/26"
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.1" {
		t.Fatalf("before reload: %q", got)
	}
	// Move the "London" network to Sydney.
	moved := slices.Clone(geotest.Example)
	moved[0].Lat, moved[0].Lon = -33.9, 151.2
	if err := geotest.Write(path, moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london))[0] == "0 192.0.2.3" })

	errorsBefore := testutil.ToFloat64(geoipReloads.WithLabelValues("error"))
	if err := os.WriteFile(path, []byte("this is not a MaxMind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(geoipReloads.WithLabelValues("error")) > errorsBefore })
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Errorf("after a corrupt file: %q, want the last good database's answer", got)
	}
	// A truncated copy of a real database is caught too.
	good, _ := os.ReadFile(writeGeo(t, geotest.Example))
	errorsBefore = testutil.ToFloat64(geoipReloads.WithLabelValues("error"))
	if err := os.WriteFile(path, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(geoipReloads.WithLabelValues("error")) > errorsBefore })
	if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Errorf("after a truncated file: %q", got)
	}
}

// TestGeoIPOtherProducers: City databases as other producers write them
// load, and place clients: one whose metadata has no description (the
// MaxMind DB format allows it), DB-IP's layout with 24-bit records, and an
// IPv4-only tree, which places no IPv6 client.
func TestGeoIPOtherProducers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		producer geotest.Producer
		ipv6     bool
	}{
		{"no description", geotest.NoDescription, true},
		{"DB-IP City Lite layout", geotest.DBIPLite, true},
		{"IPv4 only", geotest.IPv4Only, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "city.mmdb")
			if err := geotest.WriteAs(path, geotest.Example, tc.producer); err != nil {
				t.Fatal(err)
			}
			errorsBefore := testutil.ToFloat64(geoipLoadErrors)
			a := startedHandler(t, strings.Replace(closestCorefile, "GEOIP", path, 1), nil)
			if a.sel.geo.reader() == nil || testutil.ToFloat64(geoipLoadErrors) != errorsBefore {
				t.Fatalf("the database did not load")
			}
			if got := order(t, ask(t, a, "198.51.100.1", "127.0.0.1", "203.0.113.64/26")); got[0] != "0 192.0.2.2" {
				t.Errorf("New York client: %q, want Chicago first", got)
			}
			r := ask(t, a, "198.51.100.1", "127.0.0.1", "2001:db8:3::/48")
			if melbourne := order(t, r)[0] == "0 192.0.2.3"; melbourne != tc.ipv6 {
				t.Errorf("Melbourne IPv6 client: %q (IPv6 in the database: %v)", order(t, r), tc.ipv6)
			}
		})
	}
}

// TestGeoIPEveryBadFileLogged: each bad file is counted once, also when a
// second one fails with the same error as the first; a file that stays
// bad is not counted again at every check.
func TestGeoIPEveryBadFileLogged(t *testing.T) {
	path := writeGeo(t, geotest.Example)
	corefile := strings.Replace(closestCorefile, "geoip GEOIP", "geoip "+path+" {\n\t\treload 20ms\n\t}", 1)
	a := startedHandler(t, corefile, nil)
	bad := func(content string) {
		t.Helper()
		before := testutil.ToFloat64(geoipLoadErrors)
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return testutil.ToFloat64(geoipLoadErrors) > before })
		// Ten more checks of the same bad file count nothing.
		time.Sleep(10 * 20 * time.Millisecond)
		if n := testutil.ToFloat64(geoipLoadErrors) - before; n != 1 {
			t.Errorf("one bad file counted %v times", n)
		}
	}
	bad("not a database")
	bad("not a database either") // the same error text, another file
	if a.sel.geo.reader() == nil {
		t.Error("the last good database is gone")
	}
}

// TestGeoIPDatabaseAge: the age metric is the time since the database's
// build epoch, computed when scraped, on the collector's clock.
func TestGeoIPDatabaseAge(t *testing.T) {
	built := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "city.mmdb")
	p := geotest.MaxMind
	p.BuildEpoch = built.Unix()
	if err := geotest.WriteAs(path, geotest.Example, p); err != nil {
		t.Fatal(err)
	}
	geoAges.now = func() time.Time { return built.Add(36 * time.Hour) }
	defer func() { geoAges.now = time.Now }()
	startedHandler(t, strings.Replace(closestCorefile, "GEOIP", path, 1), nil)
	want := `
# HELP coredns_amtrelay_geoip_database_age_seconds Age of the GeoIP database in use, from its build epoch, by file.
# TYPE coredns_amtrelay_geoip_database_age_seconds gauge
coredns_amtrelay_geoip_database_age_seconds{path="` + path + `"} 129600
`
	waitFor(t, func() bool {
		return testutil.CollectAndCompare(geoAges, strings.NewReader(want), "coredns_amtrelay_geoip_database_age_seconds") == nil
	})
}
