package amtrelay

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/geotest"
)

// TestReadinessStrict: with `readiness strict` the plugin is not ready
// while every relay is down, and is again once one answers; without it,
// ready after the first probe round whatever the relays said.
func TestReadinessStrict(t *testing.T) {
	relays, port := loopbackRelays(t)
	for _, r := range relays {
		r.Set(amttest.Behaviour{Drop: true})
	}
	lenient := startedHandler(t, healthCorefile(port, ""), nil)
	strict := startedHandler(t, healthCorefile(port, "readiness strict"), nil)
	waitFor(t, lenient.Ready)
	waitFor(t, strict.workers.ready)
	if strict.Ready() {
		t.Error("strict: ready with every relay down")
	}
	relays[1].Set(amttest.Behaviour{})
	waitFor(t, strict.Ready)
}

// TestReadinessStrictGeoIP: with `readiness strict`, a location policy
// without a loaded GeoIP database is not ready; once the file appears and
// loads, it is.
func TestReadinessStrictGeoIP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	corefile := strings.Replace(closestCorefile, "geoip GEOIP", "geoip "+path+" {\n\t\treload 20ms\n\t}\n\treadiness strict", 1)
	a := startedHandler(t, corefile, nil)
	if a.Ready() {
		t.Error("ready without a GeoIP database")
	}
	if err := geotest.Write(path, geotest.Example); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a.Ready)
}

func TestReadinessSetupErrors(t *testing.T) {
	if _, err := parseCorefile("amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nreadiness eventually\n}"); err == nil || !strings.Contains(err.Error(), "readiness 'eventually' must be first-round or strict") {
		t.Errorf("err %v", err)
	}
}
