// Package gateway holds the benchmarks of the gatewayresolver library's
// race (issue #10): the time from Dial to the first Relay Discovery while
// one DNS query goes unanswered, the cost of silent and closed relays
// ahead of a live one, and RFC 8305 §4 family interleaving when IPv6 is
// broken. Everything runs on loopback: DNS servers and AMT relays started
// by the benchmarks, and sockets that refuse any other destination.
//
//	cd test/bench && go test -run '^$' -bench . -benchtime 20x ./gateway/
//
// The figures are in gatewayresolver/README.md.
package gateway
