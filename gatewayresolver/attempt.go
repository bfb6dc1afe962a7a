package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// raceState is what the attempts of one race share: the relays taken, so
// that two candidates advertising the same relay do not both win it.
type raceState struct {
	mu     sync.Mutex
	claims map[netip.AddrPort]bool
}

// claim takes relay for one attempt; false if another has it.
func (s *raceState) claim(relay netip.AddrPort) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims[relay] {
		return false
	}
	s.claims[relay] = true
	return true
}

func (s *raceState) release(relay netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.claims, relay)
}

// attemptResult is what an attempt goroutine reports.
type attemptResult struct {
	idx      int
	winner   *Winner
	relay    netip.AddrPort
	outcome  Outcome
	err      error
	direct   bool
	ignored  int
	heldDown bool
	ended    time.Duration
}

// attempt runs one candidate's handshake: Relay Discovery to the candidate
// (unless DirectRequest and the D-bit let it skip that, RFC 8777 §4.2.2),
// then a Request to the relay advertised, on sockets connected to each.
// override lets it use an advertised relay in hold-down (as a last
// resort). It closes its sockets unless it wins.
func (r *Resolver) attempt(ctx context.Context, st *raceState, i int, c Candidate, override bool, start time.Time) (res attemptResult) {
	res.idx = i
	defer func() { res.ended = time.Since(start) }()
	actx, cancel := context.WithTimeout(ctx, r.attemptTimeout())
	defer cancel()
	holds := r.Holds()
	claimed := false
	fail := func(err error, dst netip.AddrPort) attemptResult {
		if claimed {
			st.release(res.relay)
		}
		res.err = err
		switch {
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			res.outcome = OutcomeCancelled
			res.err = fmt.Errorf("the race ended first (another relay answered, or ctx ended): %w", ctx.Err())
		case errors.Is(err, context.DeadlineExceeded):
			// RFC 8777 does not ask for a hold-down here; a short penalty,
			// doubling while the relay stays silent, keeps a dead relay
			// from costing every race a Connection Attempt Delay.
			d := holds.penalize(dst, r.holdDownTime(), fmt.Sprintf("no answer within %v", r.attemptTimeout()))
			res.outcome, res.heldDown = OutcomeTimeout, true
			res.err = fmt.Errorf("no valid answer from %v within %v; held down for %v", dst, r.attemptTimeout(), d)
		default:
			res.outcome = OutcomeError
		}
		return res
	}

	conn, err := r.dial(actx, c.Addr)
	if err != nil {
		return fail(err, c.Addr)
	}
	won := false
	defer func() {
		if !won {
			conn.Close()
		}
	}()
	ignore := func(netip.AddrPort, error) { res.ignored++ }

	res.relay = c.Addr
	discovered := false
	if r.DirectRequest && c.DiscoveryOptional {
		res.direct = true
	} else {
		adv, err := amt.DiscoverConn(actx, conn, ignore)
		if err != nil {
			return fail(err, c.Addr)
		}
		if !usableRelayAddr(adv.Relay) {
			holds.set(c.Addr, r.holdDownTime(), fmt.Sprintf("advertised %v", adv.Relay), false)
			res.heldDown = true
			return fail(fmt.Errorf("%w: %v", ErrBadAdvertisement, adv.Relay), c.Addr)
		}
		res.relay = netip.AddrPortFrom(adv.Relay.Unmap(), c.Addr.Port())
		discovered = true
	}
	relay := res.relay
	if until, why, held, strict := holds.state(relay); held && (strict || !override) {
		res.outcome = OutcomeHeld
		res.err = fmt.Errorf("advertised relay %v is in hold-down until %s (%s)", relay, until.Format("15:04:05"), why)
		return res
	}
	if !st.claim(relay) {
		res.outcome = OutcomeDuplicate
		res.err = fmt.Errorf("relay %v is already connected or being tried", relay)
		return res
	}
	claimed = true
	if relay.Addr() != c.Addr.Addr().Unmap() {
		// The Request goes to the advertised relay: a socket connected
		// to it.
		next, err := r.dial(actx, relay)
		if err != nil {
			return fail(err, relay)
		}
		conn.Close()
		conn = next
	}
	w := &Winner{Candidate: c, Relay: relay, Conn: conn}
	if r.AdvertOnly && discovered {
		res.outcome = OutcomeAdvertised
	} else {
		q, err := amt.QueryConn(actx, conn, r.MLD, ignore)
		if err != nil {
			return fail(err, relay)
		}
		if q.Limit {
			// RFC 8777 §3.3.5: about 10 minutes, for the relay that set
			// L, not the address the Discovery went to.
			holds.set(relay, r.holdDownTime(), "L flag set", false)
			res.heldDown = true
			res.outcome = OutcomeLimit
			res.err = fmt.Errorf("%w by %v", ErrLimit, relay)
			st.release(relay)
			return res
		}
		res.outcome = OutcomeConnected
		w.Query = &q
	}
	holds.succeeded(c.Addr)
	holds.succeeded(relay)
	w.Elapsed = time.Since(start)
	won = true
	res.winner = w
	return res
}
