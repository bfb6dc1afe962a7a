// Package examples holds the runnable Corefiles of this repository (see
// README.md). The closest, least-load and spill-over examples read a GeoIP
// database, and the dnssec example a key pair, that are generated, not
// committed; make them with
//
//	go generate ./corefile-examples/
package examples

//go:generate go run ./gengeoip -o example-city.mmdb
//go:generate go run ./genkey -o example-dnssec
