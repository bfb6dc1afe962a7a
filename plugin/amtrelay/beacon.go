package amtrelay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Defaults of `beacon`.
const (
	defaultBeaconInterval    = 60 * time.Second
	defaultBeaconTimeout     = 2 * time.Second
	defaultBeaconConcurrency = 4
	// One round without data takes a relay out (the path check runs
	// rarely: waiting for a second round would keep gateways on a relay
	// with no path for another interval), and one good round brings it
	// back.
	defaultBeaconDown = 1
	defaultBeaconUp   = 1
	// defaultAMTPort is the AMT UDP port (RFC 7450 §7).
	defaultAMTPort = 2268
)

// beaconConfig is `beacon SOURCE GROUP PORT [{ ... }]` in a source block:
// a source-specific channel (S,G) (RFC 4607) that the source's operator
// keeps sending to UDP port port, and how it is probed through each relay
// of the source.
type beaconConfig struct {
	pos  position
	ch   amt.Channel
	port uint16
	// relayPort is the relays' AMT port: `relay-port`, else the health
	// port, else 2268 (set by assemble).
	relayPort         uint16
	interval, timeout time.Duration
	// concurrency bounds the probes of this beacon in flight at once:
	// each makes a relay join toward the source.
	concurrency        int
	downAfter, upAfter int
}

// beaconOutcome is what one probe of a beacon through a relay says.
type beaconOutcome string

const (
	beaconOK        beaconOutcome = "ok"
	beaconNoData    beaconOutcome = "no_data"   // joined, but no beacon data in time: no path to S
	beaconDiscovery beaconOutcome = "discovery" // no Relay Advertisement (RFC 7450 §5.1.2)
	beaconJoin      beaconOutcome = "join"      // no Membership Query (§5.1.4): the channel was never joined
	beaconFull      beaconOutcome = "full"      // Membership Query with the L flag (§5.1.4.4)
	beaconResolve   beaconOutcome = "resolve"   // a type-3 name did not resolve
	beaconError     beaconOutcome = "error"     // a local socket error
)

// conclusive reports whether the outcome says something of the relay's
// path to the source: the relay joined the channel and data came, or did
// not. A relay that could not be asked (down, full, unresolvable) is
// health's to judge; such a round leaves the path verdict as it was.
func (o beaconOutcome) conclusive() bool { return o == beaconOK || o == beaconNoData }

// beacon is one source line's beacon, and which of its relays reach the
// source by it. A relay that answers but delivers no beacon data is "up,
// no path to S": left out of this source's answers only (query.eligible),
// as a relay that is down is, and still given for other sources.
type beacon struct {
	cfg   beaconConfig
	group *group

	// noPath holds the group's relays without a path, with why, as the
	// last conclusive rounds say; nil when every relay has one or none
	// has been judged. Answers read it; judge replaces it.
	noPath atomic.Pointer[map[*relay]string]

	mu    sync.Mutex
	paths map[*relay]*pathState

	// inFlight counts probes running; peak is the most there were at
	// once (tests read it).
	inFlight, peak atomic.Int64
}

// pathState is what the probes of one beacon say of one relay.
type pathState struct {
	d      damper
	noPath bool
	cause  string
}

func newBeacon(cfg beaconConfig, g *group) *beacon {
	b := &beacon{cfg: cfg, group: g, paths: map[*relay]*pathState{}}
	for _, r := range g.relays {
		b.paths[r] = &pathState{d: damper{downAfter: cfg.downAfter, upAfter: cfg.upAfter}}
	}
	return b
}

// reaches reports whether r reaches the group's sources, as far as its
// beacon knows: true without a beacon, or until a round says otherwise.
func (g *group) reaches(r *relay) bool {
	if g == nil || g.beacon == nil {
		return true
	}
	m := g.beacon.noPath.Load()
	if m == nil {
		return true
	}
	_, no := (*m)[r]
	return !no
}

// noPathCause says why r has no path to the group's sources, or "".
func (g *group) noPathCause(r *relay) string {
	if g == nil || g.beacon == nil {
		return ""
	}
	if m := g.beacon.noPath.Load(); m != nil {
		return (*m)[r]
	}
	return ""
}

// describe is "no path to S via beacon (S,G)", for explain and logs.
func (b *beacon) describe() string {
	return fmt.Sprintf("no path to %v via beacon %v port %d", b.cfg.ch.Source, b.cfg.ch, b.cfg.port)
}

// beaconProber probes every beacon of a server block through the
// relays of its source: a worker (workers.go).
type beaconProber struct {
	beacons  []*beacon
	resolver *net.Resolver
	onChange func()
	// pending counts beacons whose first round has not finished.
	pending atomic.Int64
}

func newBeaconProber(beacons []*beacon, onChange func()) *beaconProber {
	p := &beaconProber{beacons: beacons, onChange: onChange}
	p.pending.Store(int64(len(beacons)))
	return p
}

// run probes each beacon in rounds until ctx ends: the first at once,
// the second after a random part of the interval (so that the instances
// of a fleet, and the beacons of one, spread out), then every interval.
func (p *beaconProber) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, b := range p.beacons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, b)
		}()
	}
	wg.Wait()
}

// ready reports whether every beacon has had its first round.
func (p *beaconProber) ready() bool { return p.pending.Load() == 0 }

func (p *beaconProber) loop(ctx context.Context, b *beacon) {
	first := true
	next := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			if first {
				p.pending.Add(-1)
			}
			return
		case <-time.After(next):
		}
		started := time.Now()
		p.round(ctx, b)
		if ctx.Err() != nil {
			continue
		}
		if first {
			first = false
			p.pending.Add(-1)
			next = time.Duration(rand.Int64N(int64(b.cfg.interval))) + b.cfg.interval/2
			continue
		}
		next = max(0, b.cfg.interval-time.Since(started))
	}
}

// round probes the beacon through every relay of its source that may be
// handed out (not drained, not down by health), at most concurrency at
// once, and judges each as its probe ends.
func (p *beaconProber) round(ctx context.Context, b *beacon) {
	sem := make(chan struct{}, b.cfg.concurrency)
	var wg sync.WaitGroup
	for _, r := range b.group.relays {
		if !r.eligible() {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n := b.inFlight.Add(1)
			for peak := b.peak.Load(); n > peak && !b.peak.CompareAndSwap(peak, n); peak = b.peak.Load() {
			}
			outcome := p.probe(ctx, b, r)
			b.inFlight.Add(-1)
			if ctx.Err() != nil {
				return
			}
			if outcome != beaconOK {
				beaconFailures.WithLabelValues(r.server, r.name, b.cfg.ch.Source.String(), b.cfg.ch.Group.String(), string(outcome)).Inc()
			}
			if outcome.conclusive() {
				p.judge(b, r, outcome)
			}
		}()
	}
	wg.Wait()
}

// probe joins the beacon through r within the timeout, once per address
// of r: r reaches the source if one address delivers beacon data. Like a
// gateway that follows r's record (RFC 8777 §4.2.2), it sends a Relay
// Discovery first when the D-bit is 0, and the Request to the relay
// address advertised. amt.Probe always leaves the channel.
func (p *beaconProber) probe(ctx context.Context, b *beacon, r *relay) beaconOutcome {
	addrs, err := relayAddresses(ctx, p.resolver, r, b.cfg.timeout)
	if err != nil {
		return beaconResolve
	}
	best := beaconError
	for _, a := range addrs {
		o := p.probeAddr(ctx, b, r, netip.AddrPortFrom(a, b.cfg.relayPort))
		if o == beaconOK {
			return o
		}
		if rankOutcome(o) > rankOutcome(best) {
			best = o
		}
	}
	return best
}

// rankOutcome orders failed outcomes by how much they say: a relay that
// joined and delivered nothing says most.
func rankOutcome(o beaconOutcome) int {
	switch o {
	case beaconNoData:
		return 4
	case beaconFull:
		return 3
	case beaconJoin:
		return 2
	case beaconDiscovery:
		return 1
	}
	return 0
}

func (p *beaconProber) probeAddr(ctx context.Context, b *beacon, r *relay, target netip.AddrPort) beaconOutcome {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	if !r.record.DiscoveryOptional {
		pc, err := net.ListenUDP("udp", nil)
		if err != nil {
			return beaconError
		}
		ignore := func(_ netip.AddrPort, reason error) { probeIgnored.WithLabelValues(ignoredReason(reason)).Inc() }
		adv, err := amt.Discover(ctx, pc, target, ignore)
		pc.Close()
		if err != nil {
			if isTimeout(err) {
				return beaconDiscovery
			}
			return beaconError
		}
		target = netip.AddrPortFrom(adv.Relay.Unmap(), target.Port())
	}
	res, err := amt.Probe(ctx, target, b.cfg.ch, b.cfg.port)
	st := res.Stats
	beaconPackets.WithLabelValues(r.server, "sent").Add(float64(st.SentPackets))
	beaconPackets.WithLabelValues(r.server, "received").Add(float64(st.ReceivedPackets))
	beaconBytes.WithLabelValues(r.server, "sent").Add(float64(st.SentBytes))
	beaconBytes.WithLabelValues(r.server, "received").Add(float64(st.ReceivedBytes))
	switch {
	case err == nil:
		beaconFirstData.WithLabelValues(r.server, r.name).Observe(res.FirstData.Seconds())
		return beaconOK
	case errors.Is(err, amt.ErrLimit):
		return beaconFull
	case !isTimeout(err):
		return beaconError
	case st.Queries == 0:
		return beaconJoin
	}
	return beaconNoData
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// judge feeds a conclusive round to r's damper, sets the relay_path
// gauge, and when the verdict changes publishes the relays without a
// path, logs, and tells the selector.
func (p *beaconProber) judge(b *beacon, r *relay, outcome beaconOutcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps := b.paths[r]
	v := ps.d.observe(outcome == beaconOK)
	path := 1.0
	if v.down {
		path = 0
	}
	relayPath.WithLabelValues(r.server, r.name, b.cfg.ch.Source.String(), b.cfg.ch.Group.String()).Set(path)
	if !v.changed {
		return
	}
	was := ps.noPath
	ps.noPath = v.down
	if v.down {
		ps.cause = fmt.Sprintf("no beacon data within %s in %d probe round(s)", b.cfg.timeout, v.streak)
	} else {
		ps.cause = ""
	}
	if was == v.down {
		return // the first round, finding a path
	}
	m := map[*relay]string{}
	for o, s := range b.paths {
		if s.noPath {
			m[o] = s.cause
		}
	}
	if len(m) == 0 {
		b.noPath.Store(nil)
	} else {
		b.noPath.Store(&m)
	}
	if v.down {
		log.Warningf("relay %s (%s) is up, %s: %s; it is left out of the answers for %s", r.name, r.value(), b.describe(), ps.cause, prefixList(b.group.prefixes))
	} else {
		log.Infof("relay %s (%s) reaches %v again: beacon %v data in %d probe round(s)", r.name, r.value(), b.cfg.ch.Source, b.cfg.ch, v.streak)
	}
	if p.onChange != nil {
		p.onChange()
	}
}
