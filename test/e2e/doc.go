// Package e2e runs the seeds' walk-through end to end, across networks:
// a gateway in an end user's unicast-only network asks its recursive
// resolver (Unbound, with the test's own root hints) for the AMTRELAY
// record of a multicast source; the resolver walks the reverse tree from
// the root, through the .arpa authority and Network 1's reverse zone, to
// the AMT DNS on an anycast address that Network 1 and Network 2 both
// announce; the nearest instance answers with its relays, and the gateway
// connects to one (RFC 8777 §2.2, §3). In scenario i the gateway also
// joins S1's stream and receives it through the relay: S1 sends real
// multicast on its own link, pinned to it, the relays forward it, and
// beacons check that each relay reaches S1 (issue 16).
//
// Every host is a Linux network namespace, joined to the others by veth
// links; every program (CoreDNS with the amtrelay plugin, BIND, Unbound,
// Prometheus, the relays, the gateway) runs as a process inside its
// namespace. Nothing is added to the host's own network: no link, route,
// address or nft table. README.md draws the topology and lists the
// scenarios; topology.sh builds the same topology and leaves it up.
//
// The test needs root, ip (iproute2), nft (nftables), unbound, named
// (bind9), prometheus and dig (bind9-dnsutils). Without one it skips with
// a message naming it; with CI=true it fails.
package e2e
