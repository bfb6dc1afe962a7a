// Package gatewayresolver is the gateway side of RFC 8777 (DRIAD): it turns
// the source address of an SSM channel into an ordered list of AMT relay
// candidates and connects to the best one that answers.
//
// # Candidates
//
// Resolver.Lookup gathers candidates from three tiers, queried at once:
//
//   - DNS-SD (RFC 6763, RFC 8777 §3.1.2): PTR _amt._udp.<domain>, then SRV
//     and TXT for each instance, then the targets' addresses, for each
//     domain of the resolv.conf search list and of its
//     b._dns-sd._udp.<domain> browsing-domain records (RFC 6763 §11), or
//     for configured domains. Unicast DNS only.
//   - Anycast: 192.52.193.1 and 2001:3::1 (RFC 7450 §7). On by default.
//   - DRIAD: the AMTRELAY records (RFC 8777 §4) of the source's reverse
//     name (§2.2), following CNAME and DNAME chains (§3.4) up to a bound.
//     Records are decoded by the shared amtrelayrr codec, because miekg/dns
//     cannot unpack records with the D-bit set. Unknown relay types are
//     skipped (§4.2.3). Type-3 names are resolved with AAAA and A queries at
//     once and the RFC 8305 §3 Resolution Delay of 50 ms; precedence and
//     D-bit carry over to every address (§4.2.4). A type-0 record means
//     "no relay for this source": Lookup then returns ErrNoRelay.
//
// An optional fourth tier looks up A and AAAA records at amt.<reverse name>,
// the procedure DRIAD grew out of.
//
// # Order
//
// Candidates are sorted as RFC 8777 §3.1.2 says: by tier (DNS-SD, anycast,
// DRIAD; configurable), within DRIAD by precedence (lower first, §4.2.1) and
// within DNS-SD by SRV priority, then by RFC 6724 §6 destination address
// selection, using the source address the host would really use for each
// destination (Resolver.SourceFor, injectable). Rule 1 makes relays in
// hold-down, without a source address, or whose name did not resolve
// unusable; they stay in the list, last in their group, marked. Rules 2, 5,
// 6, 8 and 9 use the default policy table; Rules 3, 4 and 7 need flags the
// kernel does not report, so they apply only when SourceFor supplies them.
// Remaining ties are broken pseudorandomly (Resolver.Rand), weighted by SRV
// weight and by an optional Resolver.Bias. Each candidate's Reason says why
// it is where it is. Resolver.TierOrder and Resolver.Prefer override the
// order.
//
// # Connecting
//
// Resolver.Connect runs Happy Eyeballs (RFC 8777 §3.2, RFC 8305 §5): an AMT
// Relay Discovery with a random non-zero nonce to the first usable
// candidate, the next one every 250 ms (configurable within [10 ms, 2 s]) or
// as soon as an attempt fails, until a relay answers; the rest are then
// cancelled. Only an Advertisement with the right nonce from the exact
// address and port counts (RFC 7450 §5.2.3.4.4). Optionally (Confirm) the
// relay must also answer a Request with a Membership Query without the L
// flag (RFC 8777 §3.2.3); with DirectRequest a candidate with the D-bit set
// gets the Request without discovery (§4.2.2). Relays that time out or set
// the L flag go into hold-down, 10 minutes by default (§3.3.4.1, §3.3.5).
// ConnectN holds several relays at once (§3.1.3), and the Race returned
// keeps the whole ordered list for a caller's own state machine.
//
// # DNS
//
// Queries go to Resolver.Servers, or to resolv.conf's nameservers, over
// UDP with a retry over TCP on truncation. By default at most 10 queries
// leave per 100 ms (RFC 8777 §3.2.2), and a query that times out is retried
// with timeouts drawn from [1 s, min(1 s·2^n, 120 s)] (§3.5). The package
// does not validate DNSSEC: as RFC 8777 §6.2 says, use a trusted resolver
// over a secure channel. Replies whose question does not match are
// discarded, and only records on the queried name's chain are believed.
//
// The package imports only the standard library, miekg/dns and this
// module's amt and amtrelayrr packages.
package gatewayresolver
