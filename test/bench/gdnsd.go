package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// seedZone is the zone whose amt.<N> names the peers answer, the seed
// documents' procedure for 198.51.100.0/24.
const seedZone = "100.51.198.in-addr.arpa"

// writeGdnsd writes a gdnsd 3 configuration directory that answers
// amt.N.100.51.198.in-addr.arpa A with the nearest of relays, by gdnsd's
// geoip plugin: each relay a datacenter at its coordinates
// (auto_dc_coords), located clients from the City database at db, ECS
// honoured (gdnsd's default).
func writeGdnsd(dir, db string, port int, relays []Relay) error {
	for _, d := range []string{"zones", "geoip"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink(db, filepath.Join(dir, "geoip", "city.mmdb")); err != nil && !os.IsExist(err) {
		return err
	}
	var names, coords, dcmap strings.Builder
	for _, r := range relays {
		fmt.Fprintf(&names, " %s", r.Name)
		fmt.Fprintf(&coords, "          %s => [ %.4f, %.4f ]\n", r.Name, r.At.Lat, r.At.Lon)
		fmt.Fprintf(&dcmap, "          %s => %s\n", r.Name, r.Addr)
	}
	config := fmt.Sprintf(`options => {
  listen => [ 127.0.0.1:%d ]
  udp_threads => 1
  tcp_threads => 1
}
plugins => {
  geoip => {
    maps => {
      relays => {
        geoip2_db => city.mmdb
        datacenters => [%s ]
        auto_dc_coords => {
%s        }
        auto_dc_limit => 1
      }
    }
    resources => {
      relays => {
        map => relays
        dcmap => {
%s        }
      }
    }
  }
}
`, port, names.String(), coords.String(), dcmap.String())
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		return err
	}
	var zone strings.Builder
	zone.WriteString("$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n")
	for i := range 256 {
		fmt.Fprintf(&zone, "amt.%d DYNA geoip!relays\n", i)
	}
	return os.WriteFile(filepath.Join(dir, "zones", seedZone), []byte(zone.String()), 0o644)
}
