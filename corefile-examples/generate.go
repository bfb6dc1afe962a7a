// Package examples holds the runnable Corefiles of this repository (see
// README.md). The closest, least-load and spill-over examples read a GeoIP
// database that is generated, not committed; make it with
//
//	go generate ./corefile-examples/
package examples

//go:generate go run ./gengeoip -o example-city.mmdb
