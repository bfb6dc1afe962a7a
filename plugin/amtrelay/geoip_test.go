package amtrelay

import (
	"os"
	"slices"
	"strings"
	"testing"

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
