package e2e

import (
	"fmt"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// fleetSerial is the SOA serial every Network 1 instance is configured
// with (the fleet's "serial" property), so that they agree on it.
const fleetSerial = 2026010101

// net1Corefile is the Corefile of one of Network 1's two AMT DNS
// instances, on the anycast address and on its own address unicast:
// least-load, with loads from Network 1's Prometheus, health probes with
// the AMT protocol every second, and readiness strict, so that a routing
// daemon could withdraw the anycast route when every relay is down
// (the ready plugin keeps asking). Least-load ranks by distance within a
// load step, so readiness strict also waits for the GeoIP database. Health
// is the fleet's quorum over both instances' relay_up in that Prometheus,
// and the SOA serial is fixed. S1's IPv4 source line has a beacon, (S1,
// 232.1.1.1) to dataPort, probed through each relay every 2 s (timeout
// 2 s, two rounds without data before a relay leaves: on a busy CI machine
// a single slow probe, with timeout 1 s and down 1, once took 1a out of
// scenario h's answers): a relay that answers but delivers no beacon data leaves S1's
// answers (scenario i). The interval is short for the test; the default
// is 60 s.
func net1Corefile(unicast, geoip string) string {
	fleetHealth := fmt.Sprintf(`
			fleet http://%s {
				interval 1s
				timeout 1s
				quorum 0.5
				max-age 5s
			}`, prometheusAddr)
	serial := fmt.Sprintf("\n\t\tserial %d", fleetSerial)
	return fmt.Sprintf(`.:53 {
	bind %[1]s %[2]s
	amtrelay {
		relay 1a %[3]s {
			capacity 100
			location %[11]s
		}
		relay 1b %[4]s {
			capacity 100
			location %[11]s
		}
		relay 1a6 %[5]s {
			capacity 100
			location %[11]s
		}
		relay 1b6 %[6]s {
			capacity 100
			location %[11]s
		}
		source 198.51.100.0/24 1a 1b {
			beacon %[13]s %[14]s %[15]s {
				interval 2s
				timeout 2s
				down 2
			}
		}
		source 2001:db8:100::/48 1a6 1b6
		policy least-load
		answer 3
		geoip %[12]s
		load {
			max-age 30s
			prometheus http://%[7]s "amt_relay_load" {
				interval 1s
				timeout 1s
			}
		}
		health {
			interval 1s
			timeout 500ms
			down 2
			up 2%[8]s
		}
		all-down fail-open
		readiness strict
		ttl 5%[9]s
		ns %[10]s
	}
	ready %[2]s:8181 {
		monitor continuously
	}
	prometheus %[2]s:9153
	errors
}
`, anycastDNS, unicast, relay1a, relay1b, relay1a6, relay1b6, prometheusAddr, fleetHealth, serial, amtDNSName, network1Site, geoip,
		source1, beaconGroup, dataPort)
}

// Where things are, for least-load's distance tie-break: Network 1's
// relays share one site; the GeoIP database places the end user's and
// the router's networks (10.0.0.0/8) elsewhere.
const network1Site = "52.2053 0.1218"

// geoPlaces is the GeoIP database's content.
var geoPlaces = []geotest.Place{
	{Network: "10.0.0.0/8", City: "End user", Country: "NL", Lat: 52.3676, Lon: 4.9041},
}

// net2Corefile is Network 2's one AMT DNS instance: relay 2a, probed.
func net2Corefile() string {
	return fmt.Sprintf(`.:53 {
	bind %[1]s %[2]s
	amtrelay {
		relay 2a %[3]s
		relay 2a6 %[4]s
		source 198.51.100.0/24 2a
		source 2001:db8:100::/48 2a6
		policy failover
		health {
			interval 1s
			timeout 500ms
			down 2
			up 2
		}
		readiness strict
		ttl 5
		ns %[5]s
	}
	ready %[2]s:8181 {
		monitor continuously
	}
	errors
}
`, anycastDNS, dns2, relay2a, relay2a6, amtDNSName)
}
