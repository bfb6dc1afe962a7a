package amtrelay

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// TestGeoIPSharedWhileUnchanged: configurations naming one unchanged
// database file share the loaded database (a reload does not read and
// verify it again); once the file changes, the next configuration loads
// the new one, and answers by it.
func TestGeoIPSharedWhileUnchanged(t *testing.T) {
	path := writeGeo(t, geotest.Example)
	corefile := strings.Replace(closestCorefile, "GEOIP", path, 1)
	running := startedHandler(t, corefile, nil)
	reloaded := startedHandler(t, corefile, nil)
	if running.sel.geo.reader() == nil || reloaded.sel.geo.reader() != running.sel.geo.reader() {
		t.Fatal("a second configuration loaded the unchanged database again")
	}
	london := "203.0.113.0/26"
	if got := order(t, ask(t, reloaded, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.1" {
		t.Fatalf("with the shared database: %q", got)
	}

	moved := slices.Clone(geotest.Example)
	moved[0].Lat, moved[0].Lon = -33.9, 151.2 // London's network, now in Sydney
	if err := geotest.Write(path, moved); err != nil {
		t.Fatal(err)
	}
	next := startedHandler(t, corefile, nil)
	if next.sel.geo.reader() == running.sel.geo.reader() {
		t.Fatal("a changed file was not loaded again")
	}
	if got := order(t, ask(t, next, "198.51.100.1", "127.0.0.1", london)); got[0] != "0 192.0.2.3" {
		t.Errorf("after the file changed: %q, want the new database's answer", got)
	}
}

// TestGeoIPShareHoldsWeakly: a database no configuration uses is not kept
// alive by the share.
func TestGeoIPShareHoldsWeakly(t *testing.T) {
	path := writeGeo(t, geotest.Example)
	r, err := loadGeo(path)
	if err != nil {
		t.Fatal(err)
	}
	st := r.file
	shareReader(path, r)
	if sharedReader(path, st) != r {
		t.Fatal("the share does not return the database it was given")
	}
	r = nil
	for range 20 {
		runtime.GC()
		if sharedReader(path, st) == nil {
			return
		}
	}
	t.Fatal("the share kept a database nobody uses")
}
