// Package test holds the integration, interop, end-to-end and benchmark
// tests of the custom CoreDNS build: they start it from Corefile text, as
// cmd/coredns would, and query it over real sockets, with this project's
// own code and with independent DNS software (dig, dnspython, BIND named,
// Unbound).
package test
