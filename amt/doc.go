// Package amt implements the AMT messages of RFC 7450 §5.1 that relay
// discovery and the first step of the membership handshake need: Relay
// Discovery, Relay Advertisement, Request and Membership Query, and the
// gateway side of those exchanges: Discover and Query over an unconnected
// socket, DiscoverConn and QueryConn over one connected to the relay, on
// which ICMP errors such as port unreachable end the exchange at once.
// It also encodes and decodes the Membership Update (§5.1.5) with its
// IGMPv3 or MLDv2 report, and the Multicast Data message (§5.1.6), whose
// UDP datagram ParseData decapsulates without allocating.
//
// Gateway is the gateway side of a tunnel (RFC 7450 §5.2.3): on one
// connected socket it joins and leaves (S,G) channels, refreshes the
// membership at the relay's Query Interval, and delivers the data, sorting
// control from data by message type. Probe joins a channel through one
// relay, waits for one packet and leaves, to check that a relay reaches a
// source.
//
// The amtrelay plugin's health probe and the gatewayresolver's Happy
// Eyeballs race both use this one implementation. It imports only the
// standard library.
package amt
