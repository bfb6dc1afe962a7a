package gatewayresolver

import (
	"net/netip"
	"strings"
	"time"
)

// Candidate is one relay address a gateway may connect to, or a relay name
// that could not be resolved to any address.
type Candidate struct {
	// Addr is the relay's address and UDP port. It is the zero value for a
	// type-3 name or SRV target that did not resolve; such a candidate is
	// listed, with Usable false, so a caller sees what was skipped.
	Addr netip.AddrPort
	// Tier is where the candidate came from.
	Tier Tier
	// Precedence is the AMTRELAY precedence (DRIAD only; lower first,
	// RFC 8777 §4.2.1).
	Precedence uint8
	// Priority and Weight are the SRV priority and weight (DNS-SD only;
	// RFC 2782, RFC 6763 §5).
	Priority, Weight uint16
	// DiscoveryOptional is the AMTRELAY D-bit (RFC 8777 §4.2.2): the
	// gateway may send a Request without Relay Discovery. Always false for
	// other tiers.
	DiscoveryOptional bool
	// Name is the type-3 relay name (DRIAD) or the SRV target (DNS-SD) the
	// address was resolved from, if any.
	Name string
	// Instance is the DNS-SD service instance name (DNS-SD only).
	Instance string
	// TXT holds the instance's TXT strings (DNS-SD only), when they had
	// arrived: a candidate never waits for them.
	TXT []string
	// Source is the local address the host would use to reach Addr, as
	// Resolver.SourceFor reported it (RFC 6724 §5). Invalid when there is
	// none.
	Source Source
	// Usable is false for candidates RFC 6724 §6 Rule 1 calls unusable: in
	// hold-down (RFC 8777 §3.1.2), without a source address, or unresolved.
	// A race tries those in hold-down only when nothing else is left, and
	// never those held down with HoldDown.Add.
	Usable bool
	// HeldUntil is when the candidate's hold-down ends, if it has one.
	HeldUntil time.Time
	// TTL is the smallest TTL, in seconds, of the DNS records the
	// candidate came from: after it, the answer may have changed (RFC 8777
	// §3.3.4.3). 0 for anycast candidates, which come from no record.
	TTL uint32
	// Reason says why the candidate is where it is in the order.
	Reason string
}

// Result is the outcome of Lookup: every candidate, in the order a gateway
// should try them, and what went wrong along the way.
type Result struct {
	// Source is the multicast source address looked up.
	Source netip.Addr
	// ReverseName is its reverse-mapping name, the DRIAD query name.
	ReverseName string
	// Candidates are in connection order: usable ones first within each
	// group, then unusable ones.
	Candidates []Candidate
	// NoRelay is true when DRIAD returned a type-0 record (RFC 8777 §4.2.3).
	NoRelay bool
	// Rcode is the rcode of the reply to the AMTRELAY query at
	// ReverseName, at the end of any CNAME or DNAME chain (dns.RcodeSuccess,
	// dns.RcodeNameError, ...), or -1 when no reply came or DRIAD did not
	// run.
	Rcode int
	// Notes are the non-fatal problems met: lookups that failed, records
	// skipped as malformed or of unknown type, duplicates dropped, and,
	// in a result taken before every lookup ended (Dial), the lookups
	// still pending.
	Notes []Note
}

// Usable returns the usable candidates, in order.
func (r *Result) Usable() []Candidate {
	var out []Candidate
	for _, c := range r.Candidates {
		if c.Usable {
			out = append(out, c)
		}
	}
	return out
}

// Note is a non-fatal problem met by Lookup.
type Note struct {
	Tier Tier
	Err  error
}

func (n Note) String() string { return n.Tier.String() + ": " + n.Err.Error() }

// oneLine is err's message on one line: joined errors are separated by
// "; " rather than newlines, so a reason fits one line of output.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
