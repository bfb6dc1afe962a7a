package gatewayresolver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Defaults used for zero-valued Resolver fields, and fixed limits.
const (
	defaultResolvConf             = "/etc/resolv.conf"
	defaultQueryAttempts          = 3                      // DNS query rounds over all servers
	defaultRetryInitial           = time.Second            // RFC 8777 §3.5
	defaultRetryMax               = 120 * time.Second      // RFC 8777 §3.5
	defaultQueryLimit             = 10                     // RFC 8777 §3.2.2: at most 10 queries ...
	queryWindow                   = 100 * time.Millisecond // ... per 100 ms
	defaultMaxChain               = 8                      // CNAME/DNAME links followed (RFC 8777 §3.4)
	defaultResolutionDelay        = 50 * time.Millisecond  // RFC 8305 §3
	defaultConnectionAttemptDelay = 250 * time.Millisecond // RFC 8305 §5
	minConnectionAttemptDelay     = 10 * time.Millisecond  // RFC 8305 §5: MUST NOT be lower
	maxConnectionAttemptDelay     = 2 * time.Second        // RFC 8305 §5, §8
	defaultAttemptTimeout         = 3 * time.Second        // one relay's Discovery and Request
	defaultHoldDown               = 10 * time.Minute       // RFC 8777 §3.3.4.1, §3.3.5
	firstTimeoutPenalty           = 30 * time.Second       // hold-down after a first Discovery timeout
	maxDNSSDDomains               = 8                      // browsing domains per lookup
	maxInstances                  = 16                     // DNS-SD instances per domain, SRV records per instance
	maxAddrs                      = 16                     // addresses kept per name and family
	maxRelayNames                 = 8                      // type-3 names resolved per source
	ednsSize                      = 1232                   // EDNS(0) UDP payload size offered
)

// A Resolver finds the AMT relays for a multicast source and connects to
// the best one that answers, following RFC 8777 §3: Dial does both at once,
// starting connection attempts as DNS answers arrive; Lookup returns the
// complete ordered list; Connect races a list.
//
// The zero value is ready to use: it reads DNS servers and the search list
// from /etc/resolv.conf, uses DNS-SD, the anycast addresses and DRIAD,
// orders by RFC 8777 §3.1.2, RFC 6724 §6 with the host's real source
// addresses and RFC 8305 §4 family interleaving, races candidates 250 ms
// apart, and counts a relay as connected when it answers a Request with a
// Membership Query without the L flag (RFC 8777 §3.2.3). Fields must not
// change after first use. A Resolver is safe for concurrent use and must
// not be copied after first use.
type Resolver struct {
	// Servers are the DNS servers to query, as "host:port". When empty,
	// the nameservers of ResolvConf are used, on port 53.
	Servers []string
	// ResolvConf is the resolv.conf(5) file giving nameservers and the
	// DNS-SD search list. Default /etc/resolv.conf.
	ResolvConf string

	// Tiers are the discovery tiers to use, in order of preference (RFC
	// 8777 §3.1.2 lets administrative configuration change the order).
	// Default TierDNSSD, TierAnycast, TierDRIAD. Add TierSeed for the
	// A/AAAA lookup at amt.<reverse name>; leave a tier out to turn it off.
	Tiers []Tier
	// DNSSDDomains are the domains browsed for _amt._udp. When nil, they
	// are the ResolvConf search list and the domains learned by RFC 6763
	// §11 Domain Enumeration (b and lb PTR records under each search
	// domain and under the reverse name of each subnet of the host), at
	// most 8.
	DNSSDDomains []string
	// InterfaceAddrs returns the host's addresses with their prefix
	// lengths, for RFC 6763 §11 address-derived Domain Enumeration.
	// Link-local and loopback addresses are skipped. Default: the
	// addresses of net.InterfaceAddrs. Tests inject their own.
	InterfaceAddrs func() ([]netip.Prefix, error)
	// Port is the relay UDP port for DRIAD, anycast and seed candidates.
	// Default amt.Port (2268). DNS-SD candidates use their SRV port.
	Port uint16

	// SourceFor returns the source address the host would use to reach a
	// destination, for RFC 6724 §6. Default DefaultSourceFor, which asks
	// the kernel without sending any packet.
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
	// FirstAddressFamilyCount is how many addresses of the first family
	// of a precedence group are tried before one of the other family
	// (RFC 8305 §4 interleaving). Default 1; negative turns interleaving
	// off.
	FirstAddressFamilyCount int

	// ConnectionAttemptDelay is the time between starting successive
	// connection attempts (RFC 8305 §5); an attempt that fails starts the
	// next at once. Default 250 ms; values are clamped to [10 ms, 2 s].
	ConnectionAttemptDelay time.Duration
	// AttemptTimeout is how long one attempt, Discovery and Request, may
	// take. Default 3 s, which lets a message be retransmitted once or
	// twice (RFC 7450 §5.2.3.4.3).
	AttemptTimeout time.Duration
	// AdvertOnly makes an attempt succeed at the Relay Advertisement,
	// without sending a Request. By default it succeeds only at a
	// Membership Query without the L flag, RFC 8777 §3.2.3's definition of
	// a connection, so that a full relay does not win.
	AdvertOnly bool
	// DirectRequest lets a candidate whose D-bit is set skip Relay
	// Discovery and get a Request directly (RFC 8777 §4.2.2).
	DirectRequest bool
	// MLD sets the P flag of Requests: ask for an MLDv2 query rather than
	// an IGMPv3 one (RFC 7450 §5.1.3.4).
	MLD bool
	// DialUDP opens the connected UDP sockets of each attempt, with
	// network "udp4" or "udp6" and the relay's "host:port". Default
	// net.Dialer's DialContext. The socket must be connected: the kernel then reports
	// ICMP errors, such as port unreachable, which fail the attempt at
	// once, and drops datagrams from any other address.
	DialUDP func(ctx context.Context, network, address string) (net.Conn, error)

	// HoldDown is the hold-down table shared by Lookup and the races.
	// Default one owned by the Resolver.
	HoldDown *HoldDown
	// HoldDownTime is how long a relay that set the L flag or advertised
	// an unusable address stays unusable, and the cap of the penalty for
	// Discovery timeouts. Default 10 minutes (RFC 8777 §3.3.5).
	HoldDownTime time.Duration

	// QueryLimit caps DNS queries to QueryLimit per 100 ms, counted when
	// they are sent (RFC 8777 §3.2.2). Default 10. Negative removes the
	// cap.
	QueryLimit int
	// RetryInitial and RetryMax bound the DNS query timeouts: try n waits
	// a random time in [RetryInitial, min(RetryInitial·2^n, RetryMax)]
	// (RFC 8777 §3.5). Defaults 1 s and 120 s.
	RetryInitial, RetryMax time.Duration

	// Trace, if set, is told about each DNS query (name, type, server,
	// rcode, answers, TTL), each CNAME or DNAME link followed and each
	// connection attempt, one line at a time, for diagnostics. It may be
	// called from several goroutines at once.
	Trace func(line string)

	once    sync.Once
	limiter *rateLimiter
	holds   *HoldDown
	randMu  sync.Mutex

	// Test knobs: zero means the default.
	queryAttempts    int           // DNS query rounds
	maxChain         int           // CNAME/DNAME links
	resolutionDelay  time.Duration // RFC 8305 §3
	testAttemptDelay time.Duration // replaces the clamped ConnectionAttemptDelay
	sendHook         func()        // runs as each DNS query is sent, inside the rate limit
}

func (r *Resolver) init() {
	r.once.Do(func() {
		r.limiter = newRateLimiter(r.queryLimit(), queryWindow)
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

func (r *Resolver) resolvConf() string { return orDefault(r.ResolvConf, defaultResolvConf) }
func (r *Resolver) attempts() int      { return orPositive(r.queryAttempts, defaultQueryAttempts) }
func (r *Resolver) retryInitial() time.Duration {
	return orPositive(r.RetryInitial, defaultRetryInitial)
}
func (r *Resolver) retryMax() time.Duration {
	return max(orPositive(r.RetryMax, defaultRetryMax), r.retryInitial())
}
func (r *Resolver) queryLimit() int { return orDefault(r.QueryLimit, defaultQueryLimit) }
func (r *Resolver) maxChainLen() int {
	return orPositive(r.maxChain, defaultMaxChain)
}
func (r *Resolver) resolutionDelayTime() time.Duration {
	return orPositive(r.resolutionDelay, defaultResolutionDelay)
}
func (r *Resolver) port() uint16 { return orDefault(r.Port, amt.Port) }
func (r *Resolver) familyCount() int {
	return orDefault(r.FirstAddressFamilyCount, 1)
}

// attemptDelay is ConnectionAttemptDelay with its default and RFC 8305 §5
// bounds applied.
func (r *Resolver) attemptDelay() time.Duration {
	if r.testAttemptDelay > 0 {
		return r.testAttemptDelay
	}
	return clampAttemptDelay(r.ConnectionAttemptDelay)
}

// clampAttemptDelay returns the Connection Attempt Delay used for the
// configured value d: 250 ms for 0, otherwise d within [10 ms, 2 s]
// (RFC 8305 §5).
func clampAttemptDelay(d time.Duration) time.Duration {
	if d == 0 {
		return defaultConnectionAttemptDelay
	}
	return min(max(d, minConnectionAttemptDelay), maxConnectionAttemptDelay)
}

func (r *Resolver) attemptTimeout() time.Duration {
	return orPositive(r.AttemptTimeout, defaultAttemptTimeout)
}
func (r *Resolver) holdDownTime() time.Duration {
	return orPositive(r.HoldDownTime, defaultHoldDown)
}
func (r *Resolver) sourceFor() SourceFunc {
	if r.SourceFor == nil {
		return DefaultSourceFor
	}
	return r.SourceFor
}

// dial opens a UDP socket connected to relay.
func (r *Resolver) dial(ctx context.Context, relay netip.AddrPort) (net.Conn, error) {
	network := "udp4"
	if relay.Addr().Is6() && !relay.Addr().Is4In6() {
		network = "udp6"
	}
	if r.DialUDP != nil {
		return r.DialUDP(ctx, network, relay.String())
	}
	var d net.Dialer
	return d.DialContext(ctx, network, relay.String())
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

// tracef passes one line to Trace, if set.
func (r *Resolver) tracef(format string, args ...any) {
	if r.Trace != nil {
		r.Trace(fmt.Sprintf(format, args...))
	}
}
