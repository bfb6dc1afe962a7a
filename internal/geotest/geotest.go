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
func Write(path string, places []Place) error { return WriteAs(path, places, MaxMind) }

// Producer is how a database's maker fills its metadata. Databases from
// other producers than MaxMind are valid MaxMind DB files that differ in
// what their metadata holds.
type Producer struct {
	DatabaseType string
	// Description is the metadata description; nil leaves it out, which
	// the MaxMind DB format allows (MaxMind's own readers say it "may be
	// undefined").
	Description map[string]string
	// IPVersion is 6 (IPv4 and IPv6) or 4 (IPv4 only).
	IPVersion int
	// RecordSize is 24, 28 or 32 bits.
	RecordSize int
	// BuildEpoch is the build time in Unix seconds; 0 means now.
	BuildEpoch int64
}

// Producers of City databases that the plugin must load.
var (
	MaxMind = Producer{DatabaseType: "GeoIP2-City", Description: map[string]string{"en": "amtrelay test database (documentation prefixes)"}, IPVersion: 6, RecordSize: 28}
	// NoDescription is a City database whose metadata has no description.
	NoDescription = Producer{DatabaseType: "GeoIP2-City", IPVersion: 6, RecordSize: 28}
	// DBIPLite is laid out as DB-IP's free City Lite database: its own
	// database type, 24-bit records.
	DBIPLite = Producer{DatabaseType: "DBIP-City-Lite", Description: map[string]string{"en": "dbip-city-lite (test)"}, IPVersion: 6, RecordSize: 24}
	// IPv4Only is an IPv4 tree with 32-bit records, as some in-house
	// producers write.
	IPv4Only = Producer{DatabaseType: "GeoLite2-City", Description: map[string]string{"en": "ipv4 only (test)"}, IPVersion: 4, RecordSize: 32}
)

// WriteAs is Write with a producer's metadata.
func WriteAs(path string, places []Place, p Producer) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:              p.BuildEpoch,
		DatabaseType:            p.DatabaseType,
		Description:             p.Description,
		IncludeReservedNetworks: true, // the documentation prefixes are reserved
		IPVersion:               p.IPVersion,
		Languages:               []string{"en"},
		RecordSize:              p.RecordSize,
	})
	if err != nil {
		return err
	}
	for _, place := range places {
		_, n, err := net.ParseCIDR(place.Network)
		if err == nil && n.IP.To4() == nil && p.IPVersion == 4 {
			continue // an IPv4 tree holds no IPv6 network
		}
		if err != nil {
			return fmt.Errorf("geotest: %q: %w", place.Network, err)
		}
		rec := mmdbtype.Map{
			"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(place.City)}},
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(place.Country)},
		}
		if !place.NoLocation {
			rec["location"] = mmdbtype.Map{
				"latitude":        mmdbtype.Float64(place.Lat),
				"longitude":       mmdbtype.Float64(place.Lon),
				"accuracy_radius": mmdbtype.Uint16(20),
			}
		}
		if err := w.Insert(n, rec); err != nil {
			return fmt.Errorf("geotest: inserting %s: %w", place.Network, err)
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
