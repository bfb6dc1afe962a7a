// Package geotest writes MaxMind-format City databases for tests and
// examples, with github.com/maxmind/mmdbwriter, from a small table of
// networks and places. Nothing here is a hand-made binary.
package geotest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Place is one network of a City database.
type Place struct {
	Network string // CIDR, IPv4 or IPv6
	City    string
	Country string // ISO 3166-1 alpha-2
	Lat     float64
	Lon     float64
	// NoLocation leaves latitude and longitude out of the record, as real
	// databases do for some networks.
	NoLocation bool
}

// Write writes a GeoIP2-City database holding places to path, replacing
// it atomically (write to a temporary file, then rename), so a server that
// watches the file never reads half of it.
func Write(path string, places []Place) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		Description:             map[string]string{"en": "amtrelay test database (documentation prefixes)"},
		IncludeReservedNetworks: true, // the documentation prefixes are reserved
		IPVersion:               6,
		Languages:               []string{"en"},
		RecordSize:              28,
	})
	if err != nil {
		return err
	}
	for _, p := range places {
		_, n, err := net.ParseCIDR(p.Network)
		if err != nil {
			return fmt.Errorf("geotest: %q: %w", p.Network, err)
		}
		rec := mmdbtype.Map{
			"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}},
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(p.Country)},
		}
		if !p.NoLocation {
			rec["location"] = mmdbtype.Map{
				"latitude":        mmdbtype.Float64(p.Lat),
				"longitude":       mmdbtype.Float64(p.Lon),
				"accuracy_radius": mmdbtype.Uint16(20),
			}
		}
		if err := w.Insert(n, rec); err != nil {
			return fmt.Errorf("geotest: inserting %s: %w", p.Network, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".geotest-*.mmdb")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := w.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Example is the table behind corefile-examples' GeoIP database: client
// networks from the documentation prefixes, placed on four continents.
// Loopback and everything else is not in it.
var Example = []Place{
	{Network: "203.0.113.0/26", City: "London", Country: "GB", Lat: 51.5074, Lon: -0.1278},
	{Network: "203.0.113.64/26", City: "New York", Country: "US", Lat: 40.7128, Lon: -74.0060},
	{Network: "203.0.113.128/26", City: "Melbourne", Country: "AU", Lat: -37.8136, Lon: 144.9631},
	{Network: "203.0.113.192/26", City: "Tokyo", Country: "JP", Lat: 35.6762, Lon: 139.6503},
	{Network: "2001:db8:1::/48", City: "London", Country: "GB", Lat: 51.5074, Lon: -0.1278},
	{Network: "2001:db8:2::/48", City: "New York", Country: "US", Lat: 40.7128, Lon: -74.0060},
	{Network: "2001:db8:3::/48", City: "Melbourne", Country: "AU", Lat: -37.8136, Lon: 144.9631},
	{Network: "2001:db8:4::/48", City: "Unknown", Country: "ZZ", NoLocation: true},
}
