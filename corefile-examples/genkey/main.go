// Command genkey writes the DNSSEC key pair of the dnssec example:
// corefile-examples/example-dnssec.key and .private, an ECDSA P-256 key for
// 100.51.198.in-addr.arpa. Run it through go generate:
//
//	go generate ./corefile-examples/
//
// It prints the key, which is the trust anchor a validating resolver
// needs.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/amtrelay/amtrelay/internal/dnskeytest"
)

func main() {
	base := flag.String("o", "example-dnssec", "write `BASE`.key and BASE.private")
	zone := flag.String("zone", "100.51.198.in-addr.arpa.", "the zone the key signs")
	flag.Parse()
	k, err := dnskeytest.Write(*base, *zone)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(k)
}
