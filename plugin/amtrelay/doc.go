// Package amtrelay is a CoreDNS plugin that answers the AMTRELAY queries of
// RFC 8777 (DRIAD) for the multicast source prefixes a network serves. It
// is authoritative for the reverse zones that cover those prefixes and
// synthesizes, for the reverse name of each source address, the AMTRELAY
// records of the AMT relays (RFC 7450) that have multicast connectivity to
// that source, chosen and ordered per query by a policy.
//
// # Following one query
//
// ServeDNS (amtrelay.go) takes a query through five steps, each a
// function of its own that reads what the earlier steps wrote into one
// dnsRequest value (request.go) and nothing else:
//
//  1. classify: checkQuery (checkquery.go) vets the header; newRequest
//     reads the client from ECS (ecs.go) or the resolver's address, and
//     lookup (names.go) says which name of which source group was asked.
//  2. locate: only when the group's policy ranks by location, the client
//     is looked up once in the GeoIP database (client.go, geoip.go).
//  3. rank: the group's policy orders its relays (policy_*.go); rank
//     (ranking.go) applies the all-down behaviour, and ranking.count is
//     the one place where answers, fallbacks and "no relay" are counted.
//     "No relay" is a ranking like any other.
//  4. reply: reply (reply.go) and answer (answer.go) build the records,
//     the negative answer, and the ECS option with its scope.
//  5. write.
//
// # Adding a policy
//
// A policy is one file and one row. The file holds a type with a rank
// method and a constructor, which gets the source's group once its relays
// are known and may refuse it with an error that says what to change:
//
//	// lastFirstPolicy lists the eligible relays in reverse Corefile order.
//	type lastFirstPolicy struct{}
//
//	func newLastFirstPolicy(*group) (policy, error) { return lastFirstPolicy{}, nil }
//
//	func (lastFirstPolicy) rank(q *query) ranking {
//		var cs []candidate
//		for i := len(q.group.relays) - 1; i >= 0 && len(cs) < q.group.limit; i-- {
//			if r := q.group.relays[i]; q.eligible(r) {
//				cs = append(cs, candidate{relay: r, distanceKm: math.NaN(), utilisation: math.NaN(), score: float64(len(cs))})
//			}
//		}
//		assignPrecedence(cs)
//		return ranking{chosen: cs}
//	}
//
// The row, in the policies table (policy.go), gives the Corefile keyword,
// whether the policy needs the client's location, its default answer
// size, and how to read its arguments:
//
//	"last-first": {answer: 2, parse: noArgs("last-first", newLastFirstPolicy)},
//
// State the policy keeps between queries (precomputed weights, a load
// order) lives in its value, one per source. Nothing an answer depends on
// may be per-process state (a counter, a random number): draw from the
// query instead (draw.go), so that every instance of a fleet answers
// alike. The parser's error
// message, the cache plugin check and the README's list follow the table;
// a test checks the README. policy_test.go adds exactly this policy from a
// test file and serves it through a Corefile.
//
// # Background workers
//
// The GeoIP watcher (geoip.go), the health prober (health.go), the beacon
// prober (beacon.go) and the load poller (load.go) are workers (workers.go): each runs until its context
// ends, says when its first round is done (readiness), and calls the
// selector's changed (selector.go) when what it watches changes answers.
// That is the one way load orders are retired. Nothing else is cached:
// when a GeoIP database loads, its networks are indexed (networkindex.go)
// and each of its locations gets its nearest relays (locationlists.go),
// with an index of where relays are (nearest.go) behind them; health,
// drain, beacon paths and load are read at answer time.
//
// # Fleets
//
// The instances behind one anycast address answer alike (README, Fleets):
// Prometheus queries are evaluated at aligned times (promquery.go);
// rotations and draws are hashes of the query and the time period, never
// process state (draw.go; each query gets a view of the block's selector
// with its draw key); the SOA serial derives from the configuration
// (serial.go); and with `health { fleet }` a quorum over every instance's
// own relay_up, read from Prometheus, decides relay health (fleet.go),
// with the own probes as the fall back.
//
// # Two departures from CoreDNS habits
//
// The plugin keeps its own GeoIP reader (geoip.go) rather than reading the
// geoip plugin's metadata: it needs the network prefix of the database
// record that placed the client, which is the ECS scope of the answer (RFC
// 7871 §7.2.1), and it reloads the database when the file changes, which
// the geoip plugin does not.
//
// Health does not use plugin/pkg/up, whose probe runs only after a failed
// request and stops at the first success: relays get no DNS requests from
// this plugin to fail, so it probes every relay on a fixed schedule with
// the AMT protocol itself (RFC 7450 §5.1.1-5.1.2), and damps flaps by
// counting rounds (damper.go).
package amtrelay
