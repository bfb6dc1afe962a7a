package main

import (
	"fmt"
	"net/netip"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

// peerRelays is the relay count at which gdnsd and PowerDNS are compared:
// gdnsd takes at most 254 datacenters.
const peerRelays = 10

// WriteCityDB writes the world's City database to path with mmdbwriter
// (through internal/geotest, as the examples' database is made): every
// client network at its location, and the /24 of each of the first
// peerRelays relays at the relay's place, because PowerDNS's pickclosest()
// locates relays by looking their addresses up in the database.
func (w *World) WriteCityDB(path string) error {
	places := make([]geotest.Place, 0, len(w.Networks)+peerRelays)
	for _, n := range w.Networks {
		at := w.Locations[n.Loc]
		places = append(places, geotest.Place{
			Network: n.Prefix.String(),
			City:    fmt.Sprintf("L%d", n.Loc),
			Country: "ZZ",
			Lat:     at.Lat,
			Lon:     at.Lon,
		})
	}
	for _, r := range w.Relays[:min(peerRelays, len(w.Relays))] {
		places = append(places, geotest.Place{
			Network: netip.PrefixFrom(r.Addr, 24).Masked().String(),
			City:    "relay " + r.Name,
			Country: "ZZ",
			Lat:     r.At.Lat,
			Lon:     r.At.Lon,
		})
	}
	return geotest.Write(path, places)
}
