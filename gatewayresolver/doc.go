// Package gatewayresolver is the gateway side of RFC 8777 (DRIAD): it turns
// the source address of an SSM channel into AMT relay candidates, in the
// order RFC 8777 §3.1.2 gives, and connects to the best one that answers.
//
// # Dial, Lookup, Connect
//
// Resolver.Dial looks up and connects at once: connection attempts start
// as soon as a usable candidate is known, and never wait for lagging DNS
// answers (RFC 8777 §3.2.2, RFC 8305 §3), except that a candidate waits at
// most the Resolution Delay (50 ms) for a better tier still looking, so
// that DNS-SD comes strictly first (§3.1.2). Candidates that arrive later
// join the list in their place: a better one is tried next, attempts
// already started go on. When a relay has connected, the lookups still
// running are cancelled. Resolver.Lookup waits for every answer and
// returns the complete ordered list; Resolver.Connect races a list.
//
// # Tiers
//
// Candidates come from tiers, run at once (Resolver.Tiers picks them and
// their order; each is one file of this package):
//
//   - DNS-SD (RFC 6763, RFC 8777 §3.1.2): PTR _amt._udp.<domain>, then SRV
//     and TXT of each instance at once, then the targets' addresses, for
//     each domain of the resolv.conf search list and those RFC 6763 §11
//     Domain Enumeration names (b and lb PTR records under each search
//     domain and under the reverse name of each subnet of the host), or
//     for configured domains. Unicast DNS only. TXT never holds a
//     candidate back.
//   - Anycast: 192.52.193.1 and 2001:3::1 (RFC 7450 §7), known at once.
//   - DRIAD: the AMTRELAY records (RFC 8777 §4) of the source's reverse
//     name (§2.2), following CNAME and DNAME chains (§3.4) up to 8 links.
//     Records are decoded by the shared amtrelayrr codec, because miekg/dns
//     cannot unpack records with the D-bit set. Unknown relay types are
//     skipped (§4.2.3), as is a type-3 name of ".". Type-3 names, at most 8,
//     those of lowest precedence, are resolved with AAAA and A queries at
//     once: AAAA addresses join when they come, A addresses that come first
//     after the RFC 8305 §3 Resolution Delay of 50 ms, and late answers of
//     either family still join; precedence and D-bit carry over to every
//     address (§4.2.4). A type-0 record means "no relay for this source":
//     Lookup then returns ErrNoRelay, and so does Dial unless a relay
//     connected first.
//   - Seed (not by default): A and AAAA records at amt.<reverse name>, the
//     procedure DRIAD grew out of.
//
// # Order
//
// Candidates are sorted as RFC 8777 §3.1.2 says: by tier (DNS-SD, anycast,
// DRIAD; configurable), within DRIAD by precedence (lower first, §4.2.1)
// and within DNS-SD by SRV priority, then by RFC 6724 §6 destination
// address selection, using the source address the host would really use
// for each destination (Resolver.SourceFor, injectable). Rule 1 makes
// relays in hold-down, without a source address, or whose name did not
// resolve unusable; they stay in the list, last in their group, marked.
// Remaining ties are broken pseudorandomly (Resolver.Rand), weighted by SRV
// weight and by an optional Resolver.Bias. Then, inside each precedence
// group, address families are interleaved (RFC 8305 §4, First Address
// Family Count 1 by default), so that broken IPv6 costs one Connection
// Attempt Delay, not one per IPv6 address. Each candidate's Reason says why
// it is where it is.
//
// # Connecting
//
// The race is Happy Eyeballs (RFC 8777 §3.2, RFC 8305 §5): a Relay
// Discovery with a random non-zero nonce to the first usable candidate,
// the next one every 250 ms (configurable within [10 ms, 2 s]) or as soon
// as an attempt fails, until a relay connects: it answers a Request, sent
// to the address its Advertisement gave, with a Membership Query without
// the L flag (RFC 8777 §3.2.3; Resolver.AdvertOnly stops at the
// Advertisement instead). Each attempt uses UDP sockets connected to its
// peer, so that ICMP errors such as port unreachable fail it at once; a
// connected socket does not see datagrams from any other address, which
// RFC 7450 §5.2.3.4.4 rejects anyway. Resolver.DialN and ConnectN hold
// several distinct relays at once (§3.1.3).
//
// # Hold-down
//
// The HoldDown table keys on the relay itself: the address a Relay
// Advertisement gave, not the broker or anycast address the Discovery went
// to. A relay that sets the L flag is held down for 10 minutes (§3.3.5). A
// timeout gets a penalty of its own: 30 s, doubling at each consecutive
// timeout up to 10 minutes, cleared by a success. Attempts cancelled
// because another won are never penalised. When nothing else is usable, a
// race tries those relays rather than fail; relays held down with
// HoldDown.Add, as RFC 8777 §3.3.4.1 requires for a relay that carried no
// traffic, never. HoldDown.Clear empties the table after a network change.
//
// # Session
//
// A Session keeps one (S,G) subscription on the right relay over hours,
// applying the restart rules of RFC 8777 §3.3. The caller owns the tunnel
// and reports what it sees (TrafficSeen, TrafficAbsent, Loss, Limit,
// NoResponse) and what the host sees (NetworkChanged, RecordsChanged); the
// Session owns the choice of relay and reports each change on Events. A
// relay without traffic within a timeout drawn from [4 s, min(4 s·2^n,
// 120 s)] is held down with HoldDown.Add for 3 minutes (§3.3.4.1); a relay
// that sets L is held down for 10 minutes and replaced, kept until another
// answers (§3.3.5); loss restarts at a random time within 10 s (§3.3.4.2);
// a long-term timer, 6 hours, looks the source up again only once the
// records have expired, and moves only to a better relay (§3.3.4.3,
// §3.3.3). Each Session decides for its own relays (§3.3.7). Every timer
// runs on an injectable Clock.
//
// # DNS
//
// Queries go to Resolver.Servers, or to resolv.conf's nameservers, over
// UDP with a retry over TCP on truncation. At most 10 queries leave per
// 100 ms, counted when they are sent (RFC 8777 §3.2.2), and a query that
// times out is retried with timeouts drawn from [1 s, min(1 s·2^n, 120 s)]
// (§3.5). The package does not validate DNSSEC: as RFC 8777 §6.2 says, use
// a trusted resolver over a secure channel. Replies whose question does not
// match are discarded, and only records on the queried name's chain are
// believed.
//
// The package imports only the standard library, miekg/dns and this
// module's amt and amtrelayrr packages.
package gatewayresolver
