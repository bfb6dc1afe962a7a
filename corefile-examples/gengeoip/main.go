// Command gengeoip writes the small GeoIP City database that the
// corefile-examples use, from the table in internal/geotest:
//
//	go generate ./corefile-examples/
//
// The database is generated, not committed.
package main

import (
	"flag"
	"log"

	"github.com/amtrelay/amtrelay/internal/geotest"
)

func main() {
	out := flag.String("o", "example-city.mmdb", "database file to write")
	flag.Parse()
	if err := geotest.Write(*out, geotest.Example); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s (%d networks)", *out, len(geotest.Example))
}
