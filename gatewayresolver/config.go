package gatewayresolver

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Defaults used for zero-valued Resolver fields.
const (
	DefaultResolvConf             = "/etc/resolv.conf"
	DefaultQueryAttempts          = 3                      // DNS query rounds over all servers
	DefaultRetryInitial           = time.Second            // RFC 8777 §3.5
	DefaultRetryMax               = 120 * time.Second      // RFC 8777 §3.5
	DefaultQueryLimit             = 10                     // RFC 8777 §3.2.2: at most 10 queries ...
	DefaultQueryWindow            = 100 * time.Millisecond // ... per 100 ms
	DefaultMaxChain               = 8                      // CNAME/DNAME links followed
	DefaultResolutionDelay        = 50 * time.Millisecond  // RFC 8305 §3
	DefaultConnectionAttemptDelay = 250 * time.Millisecond // RFC 8305 §5
	MinConnectionAttemptDelay     = 10 * time.Millisecond  // RFC 8305 §5: MUST NOT be lower
	MaxConnectionAttemptDelay     = 2 * time.Second        // RFC 8305 §5, §8
	DefaultAttemptTimeout         = 3 * time.Second        // one relay's Discovery (and Request)
	DefaultHoldDown               = 10 * time.Minute       // RFC 8777 §3.3.4.1, §3.3.5
	DefaultMaxDNSSDDomains        = 8                      // browsing domains per Lookup
	DefaultMaxInstances           = 16                     // DNS-SD instances per domain
	DefaultMaxAddrs               = 16                     // addresses kept per name and family
	DefaultEDNSSize               = 1232                   // EDNS(0) UDP payload size offered
)

// A Resolver turns a multicast source address into an ordered list of AMT
// relay candidates (Lookup) and connects to the best one that answers
// (Connect), following RFC 8777 §3.
//
// The zero value is ready to use: it reads DNS servers and the search list
// from /etc/resolv.conf, uses DNS-SD, the anycast addresses and DRIAD,
// orders by RFC 8777 §3.1.2 and RFC 6724 §6 with the host's real source
// addresses, and races candidates 250 ms apart. Fields must not change
// after first use. A Resolver is safe for concurrent use and must not be
// copied after first use.
type Resolver struct {
	// Servers are the DNS servers to query, as "host:port". When empty,
	// the nameservers of ResolvConf are used, on port 53.
	Servers []string
	// ResolvConf is the resolv.conf(5) file giving nameservers and the
	// DNS-SD search list. Default DefaultResolvConf.
	ResolvConf string
	// QueryAttempts is how many rounds of queries over all Servers are made for
	// one question before giving up on timeouts. Default 3. Round n waits
	// for each reply a random time in [RetryInitial,
	// min(RetryInitial·2^n, RetryMax)] (RFC 8777 §3.5). A SERVFAIL or
	// REFUSED moves on to the next server and ends the rounds.
	QueryAttempts int
	// RetryInitial and RetryMax bound the per-query timeouts. Defaults
	// 1 s and 120 s.
	RetryInitial, RetryMax time.Duration
	// QueryLimit caps DNS queries to QueryLimit per QueryWindow (RFC 8777
	// §3.2.2). Defaults 10 per 100 ms. A negative QueryLimit removes the
	// cap.
	QueryLimit  int
	QueryWindow time.Duration
	// MaxChain is the most CNAME and DNAME links followed from one query
	// name (RFC 8777 §3.4). Default 8.
	MaxChain int
	// ResolutionDelay is how long, once one of the AAAA and A queries for
	// a name has returned addresses, the other is waited for (RFC 8305 §3).
	// Default 50 ms.
	ResolutionDelay time.Duration

	// NoDNSSD turns off the DNS-SD tier.
	NoDNSSD bool
	// DNSSDDomains are the domains browsed for _amt._udp. When nil, they
	// are the ResolvConf search list plus the domains its
	// b._dns-sd._udp.<domain> PTR records name (RFC 6763 §11), at most
	// DefaultMaxDNSSDDomains.
	DNSSDDomains []string
	// NoAnycast turns off the anycast tier (192.52.193.1 and 2001:3::1,
	// RFC 7450 §7).
	NoAnycast bool
	// NoDRIAD turns off the AMTRELAY lookup.
	NoDRIAD bool
	// SeedLookup adds the tier of the procedure RFC 8777 grew from: A and
	// AAAA records at amt.<reverse name>.
	SeedLookup bool
	// Port is the relay UDP port for DRIAD, anycast and seed candidates.
	// Default amt.Port (2268). DNS-SD candidates use their SRV port.
	Port uint16

	// TierOrder overrides the order of tiers (RFC 8777 §3.1.2 allows
	// administrative configuration to). Tiers it leaves out follow in
	// their default order: DNS-SD, anycast, DRIAD, seed.
	TierOrder []Tier
	// Prefer lists relay addresses an administrator wants tried first, in
	// this order, ahead of every tier. It does not revive unusable ones.
	Prefer []netip.Addr
	// SourceFor returns the source address the host would use to reach a
	// destination, for RFC 6724 §6. Default DefaultSourceFor, which asks
	// the kernel without sending any packet. Tests inject their own.
	SourceFor SourceFunc
	// Rand breaks ties left after RFC 6724 (RFC 8777 §3.1.2). Default the
	// math/rand/v2 global source. The Resolver serialises its use.
	Rand *rand.Rand
	// Bias, if set, weights the pseudorandom tie-break: among tied
	// candidates, one with twice the weight is twice as likely to go first
	// (RFC 8777 §3.1.2 allows a bias, e.g. towards closer relays). Weights
	// of zero or less count as zero. DNS-SD candidates also carry their SRV
	// weight.
	Bias func(Candidate) float64

	// ConnectionAttemptDelay is the time between starting successive
	// connection attempts (RFC 8305 §5). Default 250 ms; values are
	// clamped to [10 ms, 2 s] (RFC 8305 recommends at least 100 ms).
	ConnectionAttemptDelay time.Duration
	// AttemptTimeout is how long one attempt may take before the relay
	// counts as failed and goes into hold-down. Default 3 s, which lets the
	// Relay Discovery be retransmitted once or twice (RFC 7450 §5.2.3.4.3).
	AttemptTimeout time.Duration
	// Confirm makes an attempt succeed only when the relay answers a
	// Request with a Membership Query without the L flag, RFC 8777 §3.2.3's
	// definition of a connection. Without it, a valid Relay Advertisement
	// wins.
	Confirm bool
	// DirectRequest lets a candidate whose D-bit is set skip Relay
	// Discovery and get a Request directly (RFC 8777 §4.2.2); the attempt
	// then succeeds on a Membership Query without the L flag.
	DirectRequest bool
	// MLD sets the P flag of Requests: ask for an MLDv2 query rather than
	// an IGMPv3 one (RFC 7450 §5.1.3.4).
	MLD bool
	// ListenPacket opens the UDP socket of each attempt, with network
	// "udp4" or "udp6" and address ":0". Default net.ListenConfig's.
	ListenPacket func(ctx context.Context, network, address string) (net.PacketConn, error)

	// HoldDown is the hold-down table shared by Lookup and Connect. Default
	// one owned by the Resolver.
	HoldDown *HoldDown
	// HoldDownTime is how long a failed or full relay stays unusable.
	// Default 10 minutes (RFC 8777 §3.3.4.1, §3.3.5).
	HoldDownTime time.Duration

	once    sync.Once
	limiter *rateLimiter
	holds   *HoldDown
	randMu  sync.Mutex

	// testAttemptDelay, when positive, replaces the clamped
	// ConnectionAttemptDelay. Tests set it to an hour, so that only a
	// failed attempt can start the next one and the order is fixed.
	testAttemptDelay time.Duration
}

func (r *Resolver) init() {
	r.once.Do(func() {
		r.limiter = newRateLimiter(r.queryLimit(), r.queryWindow())
		r.holds = r.HoldDown
		if r.holds == nil {
			r.holds = new(HoldDown)
		}
	})
}

// Holds returns the hold-down table the Resolver uses.
func (r *Resolver) Holds() *HoldDown {
	r.init()
	return r.holds
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// orPositive is v, or def when v is zero or negative.
func orPositive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (r *Resolver) resolvConf() string { return orDefault(r.ResolvConf, DefaultResolvConf) }
func (r *Resolver) attempts() int      { return orPositive(r.QueryAttempts, DefaultQueryAttempts) }
func (r *Resolver) retryInitial() time.Duration {
	return orPositive(r.RetryInitial, DefaultRetryInitial)
}
func (r *Resolver) retryMax() time.Duration {
	return max(orPositive(r.RetryMax, DefaultRetryMax), r.retryInitial())
}
func (r *Resolver) queryLimit() int { return orDefault(r.QueryLimit, DefaultQueryLimit) }
func (r *Resolver) queryWindow() time.Duration {
	return orPositive(r.QueryWindow, DefaultQueryWindow)
}
func (r *Resolver) maxChain() int { return orPositive(r.MaxChain, DefaultMaxChain) }
func (r *Resolver) resolutionDelay() time.Duration {
	return orPositive(r.ResolutionDelay, DefaultResolutionDelay)
}
func (r *Resolver) port() uint16 { return orDefault(r.Port, amt.Port) }

// attemptDelay is ConnectionAttemptDelay with its default and RFC 8305 §5
// bounds applied.
func (r *Resolver) attemptDelay() time.Duration {
	if r.testAttemptDelay > 0 {
		return r.testAttemptDelay
	}
	d := r.ConnectionAttemptDelay
	if d == 0 {
		d = DefaultConnectionAttemptDelay
	}
	return min(max(d, MinConnectionAttemptDelay), MaxConnectionAttemptDelay)
}
func (r *Resolver) attemptTimeout() time.Duration {
	if r.AttemptTimeout <= 0 {
		return DefaultAttemptTimeout
	}
	return r.AttemptTimeout
}
func (r *Resolver) holdDownTime() time.Duration {
	if r.HoldDownTime <= 0 {
		return DefaultHoldDown
	}
	return r.HoldDownTime
}
func (r *Resolver) sourceFor() SourceFunc {
	if r.SourceFor == nil {
		return DefaultSourceFor
	}
	return r.SourceFor
}
func (r *Resolver) listenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	if r.ListenPacket != nil {
		return r.ListenPacket(ctx, network, address)
	}
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, network, address)
}

// randFloat returns a pseudorandom number in [0, 1) from Rand.
func (r *Resolver) randFloat() float64 {
	if r.Rand == nil {
		return rand.Float64()
	}
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return r.Rand.Float64()
}
