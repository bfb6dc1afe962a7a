package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Defaults of the `health` block.
const (
	defaultProbeInterval = 10 * time.Second
	defaultProbeTimeout  = time.Second
	defaultDownAfter     = 3
	defaultUpAfter       = 2
)

// healthConfig is the `health` block: how relays are probed with the AMT
// protocol itself.
type healthConfig struct {
	port      uint16
	interval  time.Duration
	timeout   time.Duration
	downAfter int
	upAfter   int
	// request also sends a Request after the Advertisement and wants a
	// Membership Query without the L flag: a working relay in the sense
	// of RFC 8777 §3.2.3. With L set the relay counts as full.
	request bool
	// fleet reads the fleet's view of relay health, which then decides
	// over this instance's own probes (fleet.go).
	fleet *fleetConfig
}

// probeOutcome is what one probe round says of a relay.
type probeOutcome string

const (
	probeOK      probeOutcome = "ok"
	probeTimeout probeOutcome = "timeout" // no acceptable reply in time
	probeFull    probeOutcome = "full"    // Membership Query with L set
	probeResolve probeOutcome = "resolve" // a type-3 name did not resolve
	probeError   probeOutcome = "error"   // a local socket error
)

// healthChecker probes every relay of a server block on its own timer.
type healthChecker struct {
	cfg      healthConfig
	relays   []*relay
	allDown  allDownAction
	onChange func()
	resolver *net.Resolver

	// pending counts relays whose first probe round has not finished.
	pending atomic.Int64

	// fleet, when configured, is the fleet's view, which decides over
	// the own probes' verdicts (local) for the relays it covers.
	fleet *fleetHealth
	local map[*relay]*localVerdict
	// decideMu makes each decision from one reading of both views.
	decideMu sync.Mutex
}

// localVerdict is what this instance's own probes say of a relay.
type localVerdict struct {
	known, down bool
	cause       string // the outcome and rounds that decided it
}

func newHealthChecker(cfg healthConfig, relays []*relay, onChange func()) (*healthChecker, error) {
	h := &healthChecker{cfg: cfg, relays: relays, onChange: onChange, local: map[*relay]*localVerdict{}}
	for _, r := range relays {
		h.local[r] = &localVerdict{}
	}
	h.pending.Store(int64(len(relays)))
	if cfg.fleet != nil {
		f, err := newFleetHealth(*cfg.fleet, relays)
		if err != nil {
			return nil, fmt.Errorf("health fleet '%s': %w", cfg.fleet.url, err)
		}
		f.onChange = h.fleetChanged
		h.fleet = f
	}
	return h, nil
}

// run probes every relay, each on its own timer, until ctx ends. The
// first round of each starts at once; later ones are spread over the
// interval so that probes do not all leave together.
func (h *healthChecker) run(ctx context.Context) {
	var wg sync.WaitGroup
	if h.fleet != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.fleet.run(ctx)
		}()
	}
	for _, r := range h.relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.probeLoop(ctx, r)
		}()
	}
	wg.Wait()
}

// ready reports whether every relay has had its first probe round, and
// the fleet's view its first read.
func (h *healthChecker) ready() bool {
	return h.pending.Load() == 0 && (h.fleet == nil || h.fleet.done.Load())
}

// probeLoop probes r every interval until ctx ends; one probe at a time.
func (h *healthChecker) probeLoop(ctx context.Context, r *relay) {
	d := damper{downAfter: h.cfg.downAfter, upAfter: h.cfg.upAfter}
	// The first round runs at once, so readiness is quick; later rounds are
	// spread over the interval.
	next := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			if d.first() {
				h.pending.Add(-1)
			}
			return
		case <-time.After(next):
		}
		started := time.Now()
		outcome := h.probe(ctx, r)
		if ctx.Err() != nil {
			continue
		}
		if outcome != probeOK {
			probeFailures.WithLabelValues(r.server, r.name, string(outcome)).Inc()
		}
		first := d.first()
		h.judge(r, outcome, d.observe(outcome == probeOK))
		if first {
			h.pending.Add(-1)
			next = time.Duration(rand.Int64N(int64(h.cfg.interval))) + h.cfg.interval/2
			continue
		}
		// Rounds start every interval, however long the last one took.
		next = max(0, h.cfg.interval-time.Since(started))
	}
}

// judge applies a round's verdict to r: the relay_up gauge, which is
// always this instance's own verdict (the fleet's view is built from
// it), and the relay's state, which the fleet's view decides when it
// covers r (decide).
func (h *healthChecker) judge(r *relay, outcome probeOutcome, v verdict) {
	up := 1.0
	if v.down {
		up = 0
	}
	relayUp.WithLabelValues(r.server, r.name).Set(up)
	if !v.changed {
		return
	}
	h.decideMu.Lock()
	defer h.decideMu.Unlock()
	lv := h.local[r]
	lv.known, lv.down = true, v.down
	if v.down {
		lv.cause = fmt.Sprintf("%s after %d probe round(s)", outcome, v.streak)
	} else {
		lv.cause = fmt.Sprintf("%d good probe round(s)", v.streak)
	}
	if fv, ok := h.fleetVerdict(r); ok && fv.up == v.down {
		log.Infof("relay %s (%s): own probes say %s (%s), but it is %s", r.name, r.value(), upDown(v.down), lv.cause, fv)
	}
	h.decide(r)
}

// fleetChanged decides every relay again after the fleet's view changed.
func (h *healthChecker) fleetChanged() {
	h.decideMu.Lock()
	defer h.decideMu.Unlock()
	for _, r := range h.relays {
		h.decide(r)
	}
}

func (h *healthChecker) fleetVerdict(r *relay) (fleetVerdict, bool) {
	if h.fleet == nil {
		return fleetVerdict{}, false
	}
	return h.fleet.verdict(r)
}

// decide sets r's state from the fleet's verdict when the fleet's view
// covers r, else from the own probes' (once there is one), logs a
// change, and tells the selector. decideMu is held.
func (h *healthChecker) decide(r *relay) {
	lv := h.local[r]
	down, known, why := lv.down, lv.known, "own probes: "+lv.cause
	if fv, ok := h.fleetVerdict(r); ok {
		down, known, why = !fv.up, true, fv.String()
	} else if h.fleet != nil && lv.known {
		why += "; " + h.fleet.describe()
	}
	if !known {
		return
	}
	r.health.Store(&why)
	wasDown := r.down.Load()
	if down == wasDown && r.judged.Load() {
		return
	}
	first := !r.judged.Swap(true)
	r.down.Store(down)
	switch {
	case down:
		log.Warningf("relay %s (%s) is down: %s; %s", r.name, r.value(), why, h.downEffect(r))
	case wasDown:
		log.Infof("relay %s (%s) is up again: %s", r.name, r.value(), why)
	}
	if (first || down != wasDown) && h.onChange != nil {
		h.onChange()
	}
}

func upDown(down bool) string {
	if down {
		return "down"
	}
	return "up"
}

// probe runs one round against every address of r: the relay is OK if
// one address is.
func (h *healthChecker) probe(ctx context.Context, r *relay) probeOutcome {
	addrs, err := h.addresses(ctx, r)
	if err != nil {
		return probeResolve
	}
	worst := probeTimeout
	for _, a := range addrs {
		o := h.probeAddr(ctx, r, netip.AddrPortFrom(a, h.cfg.port))
		if o == probeOK {
			return probeOK
		}
		if o == probeFull {
			worst = probeFull
		}
		if o == probeError && worst != probeFull {
			worst = probeError
		}
	}
	return worst
}

// addresses is the relay's address, or those its type-3 name resolves to.
func (h *healthChecker) addresses(ctx context.Context, r *relay) ([]netip.Addr, error) {
	return relayAddresses(ctx, h.resolver, r, h.cfg.timeout)
}

// relayAddresses is r's address, or the addresses its type-3 name
// resolves to (A and AAAA) within timeout: where the health and beacon
// probes go (RFC 8777 §4.2.4: a type-3 relay is each of them).
func relayAddresses(ctx context.Context, resolver *net.Resolver, r *relay, timeout time.Duration) ([]netip.Addr, error) {
	if r.record.Addr.IsValid() {
		return []netip.Addr{r.record.Addr}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	// Without the root dot, so that /etc/hosts is consulted too.
	addrs, err := resolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(r.record.Name, "."))
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("%s has no addresses", r.record.Name)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

// probeAddr sends a Relay Discovery to target and, with `request`, a
// Request to the advertised relay, within the probe timeout.
func (h *healthChecker) probeAddr(ctx context.Context, r *relay, target netip.AddrPort) probeOutcome {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	defer cancel()
	pc, err := net.ListenUDP("udp", nil)
	if err != nil {
		return probeError
	}
	defer pc.Close()
	ignore := func(_ netip.AddrPort, reason error) { probeIgnored.WithLabelValues(ignoredReason(reason)).Inc() }
	start := time.Now()
	adv, err := amt.Discover(ctx, pc, target, ignore)
	if err != nil {
		return timeoutOrError(err)
	}
	if h.cfg.request {
		relayAddr := netip.AddrPortFrom(adv.Relay.Unmap(), target.Port())
		q, err := amt.Query(ctx, pc, relayAddr, false, ignore)
		if err != nil {
			return timeoutOrError(err)
		}
		if q.Limit {
			return probeFull
		}
	}
	probeDuration.WithLabelValues(r.server, r.name).Observe(time.Since(start).Seconds())
	return probeOK
}

func timeoutOrError(err error) probeOutcome {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return probeTimeout
	}
	return probeError
}

// ignoredReason names why a reply was ignored, for metrics.
func ignoredReason(err error) string {
	switch {
	case errors.Is(err, amt.ErrNonce):
		return "nonce"
	case errors.Is(err, amt.ErrSource):
		return "source"
	case errors.Is(err, amt.ErrLength):
		return "length"
	default:
		return "malformed"
	}
}

// downEffect says truthfully what a relay going down does to answers: it
// leaves them while another relay is up; when none is, the all-down
// behaviour decides, and fail-open keeps every relay in.
func (h *healthChecker) downEffect(r *relay) string {
	for _, o := range h.relays {
		if o != r && o.eligible() {
			return "it is left out of answers"
		}
	}
	switch h.allDown {
	case allDownNoRelay:
		return "no relay is up: sources whose relays are all down are answered \"no relay\" (all-down no-relay)"
	case allDownServfail:
		return "no relay is up: sources whose relays are all down are answered SERVFAIL (all-down servfail)"
	}
	return "no relay is up: answers still list every relay (all-down fail-open)"
}
