package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Outcome is how one connection attempt ended.
type Outcome string

// Attempt outcomes.
const (
	// OutcomeAdvertised: a valid Relay Advertisement arrived, with the
	// Discovery's nonce, from the address and port the Discovery went to
	// (RFC 7450 §5.2.3.4.4). It wins unless Resolver.Confirm is set.
	OutcomeAdvertised Outcome = "advertised"
	// OutcomeConnected: a Membership Query without the L flag answered
	// the Request, RFC 8777 §3.2.3's definition of a connection.
	OutcomeConnected Outcome = "connected"
	// OutcomeLimit: the Membership Query had the L flag set (RFC 8777
	// §3.3.5). The relay is held down.
	OutcomeLimit Outcome = "limit"
	// OutcomeTimeout: no valid answer within AttemptTimeout. The relay is
	// held down.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeError: the attempt failed locally (socket, route) or the
	// relay advertised an unusable address (then it is held down).
	OutcomeError Outcome = "error"
	// OutcomeCancelled: another attempt won first, or ctx ended.
	OutcomeCancelled Outcome = "cancelled"
)

// Attempt is one candidate's try in a race, in start order.
type Attempt struct {
	Candidate Candidate
	// Started and Ended are offsets from the start of the race.
	Started, Ended time.Duration
	Outcome        Outcome
	// Err says what went wrong, for the outcomes other than advertised and
	// connected.
	Err error
	// Direct is set when the D-bit let the attempt send a Request without
	// Relay Discovery (Resolver.DirectRequest).
	Direct bool
	// Ignored counts datagrams the attempt read and rejected: wrong nonce,
	// source, port, type or length.
	Ignored int
	// HeldDown is set when the outcome put the relay into hold-down.
	HeldDown bool
	// Won is set for the attempts whose relays are in Race.Winners.
	Won bool
}

// Winner is a relay that answered.
type Winner struct {
	Candidate Candidate
	// Relay is where the gateway should send its Requests: the address the
	// Relay Advertisement gave, at the port the Discovery went to, or the
	// candidate itself when discovery was skipped.
	Relay netip.AddrPort
	// Query is the Membership Query that confirmed the connection, when
	// Confirm or DirectRequest asked for one.
	Query *amt.MembershipQuery
	// Conn is the socket the handshake used; the relay has seen its
	// address and port. The caller owns it: keep it for the tunnel, or
	// close it (Race.Close closes every winner's).
	Conn net.PacketConn
	// Elapsed is the time from the start of the race to the answer.
	Elapsed time.Duration
}

// Race is the outcome of Connect.
type Race struct {
	// Winners are the relays that answered, in the order they did; at most
	// the number asked for.
	Winners []Winner
	// Attempts are the attempts made, in start order. Candidates never
	// started are not listed.
	Attempts []Attempt
	// Candidates is the whole ordered list the race drew from, so a caller
	// can run its own state machine over the rest.
	Candidates []Candidate
	// Lookup is the Lookup result, when Dial made one.
	Lookup *Result
}

// Close closes the winners' sockets.
func (r *Race) Close() error {
	var errs []error
	for _, w := range r.Winners {
		if w.Conn != nil {
			errs = append(errs, w.Conn.Close())
		}
	}
	return errors.Join(errs...)
}

// Dial looks up the candidates for source and connects to the first that
// answers: Lookup, then Connect. Race.Lookup holds the lookup result.
func (r *Resolver) Dial(ctx context.Context, source netip.Addr) (*Race, error) {
	res, err := r.Lookup(ctx, source)
	if err != nil && len(res.Usable()) == 0 {
		return &Race{Lookup: res, Candidates: res.Candidates}, err
	}
	race, err := r.Connect(ctx, res.Candidates)
	race.Lookup = res
	return race, err
}

// Connect races the usable candidates, in their order, with Happy Eyeballs
// (RFC 8777 §3.2, RFC 8305 §5): it sends a Relay Discovery with a random
// non-zero nonce to the first, starts the next every
// ConnectionAttemptDelay (250 ms by default) or as soon as an attempt
// fails, and stops at the first relay that answers, cancelling the others
// and waiting for them to end. Only an Advertisement with the Discovery's
// nonce from the address and port it went to counts. With Confirm (or for
// a D-bit candidate with DirectRequest) the relay must also answer a
// Request with a Membership Query without the L flag.
//
// Relays that time out, advertise an unusable address or set the L flag
// go into hold-down for HoldDownTime; cancelled ones do not. Candidates in
// hold-down, unusable or repeated are skipped. Connect returns the Race even
// with an error, which wraps ErrAllFailed when every attempt failed,
// ErrNoCandidates when there was nothing to try, or ctx's error.
func (r *Resolver) Connect(ctx context.Context, cands []Candidate) (*Race, error) {
	return r.ConnectN(ctx, cands, 1)
}

// ConnectN is Connect for n relays at once, for the active/active model of
// RFC 8777 §3.1.3: the race goes on, in the same order, until n relays have
// answered or every candidate has been tried. It returns an error only when
// none answered; compare len(Race.Winners) with n.
func (r *Resolver) ConnectN(ctx context.Context, cands []Candidate, n int) (*Race, error) {
	r.init()
	n = max(n, 1)
	race := &Race{Candidates: cands}
	var todo []Candidate
	seen := map[netip.AddrPort]bool{}
	for _, c := range cands {
		if !c.Usable || !c.Addr.IsValid() || seen[c.Addr] {
			continue
		}
		if _, _, held := r.holds.Held(c.Addr); held {
			continue
		}
		seen[c.Addr] = true
		todo = append(todo, c)
	}
	if len(todo) == 0 {
		return race, fmt.Errorf("%w to connect to", ErrNoCandidates)
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	delay := r.attemptDelay()
	start := time.Now()
	results := make(chan attemptResult, len(todo))
	var wg sync.WaitGroup
	next, running := 0, 0
	launch := func() {
		i := next
		next++
		running++
		race.Attempts = append(race.Attempts, Attempt{Candidate: todo[i], Started: time.Since(start)})
		wg.Go(func() { results <- r.attempt(ctx, parent, i, todo[i], start) })
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	launch()
race:
	for len(race.Winners) < n && (running > 0 || next < len(todo)) {
		if running == 0 {
			launch()
			timer.Reset(delay)
			continue
		}
		select {
		case <-timer.C:
			if next < len(todo) {
				launch()
				timer.Reset(delay)
			}
		case res := <-results:
			running--
			if r.record(race, res) {
				continue
			}
			// RFC 8305 §5: a failed attempt starts the next one at once.
			if next < len(todo) {
				launch()
				timer.Reset(delay)
			}
		case <-ctx.Done():
			break race
		}
	}
	cancel()
	wg.Wait()
	close(results)
	for res := range results {
		if len(race.Winners) >= n && res.winner != nil {
			// Answered after the race was decided: not used.
			res.winner.Conn.Close()
			res.winner = nil
		}
		r.record(race, res)
	}
	if len(race.Winners) == 0 {
		if err := parent.Err(); err != nil {
			return race, err
		}
		return race, fmt.Errorf("%w: %d of %d candidates tried", ErrAllFailed, len(race.Attempts), len(todo))
	}
	return race, nil
}

// attemptResult is what an attempt goroutine reports.
type attemptResult struct {
	idx     int
	winner  *Winner
	outcome Outcome
	err     error
	direct  bool
	ignored int
	hold    bool
	ended   time.Duration
}

// record stores an attempt's result in the race, holds the relay down
// when it failed, and reports whether it won.
func (r *Resolver) record(race *Race, res attemptResult) bool {
	a := &race.Attempts[res.idx]
	a.Ended, a.Outcome, a.Err, a.Direct, a.Ignored = res.ended, res.outcome, res.err, res.direct, res.ignored
	if res.hold {
		r.holds.Add(a.Candidate.Addr, r.holdDownTime(), string(res.outcome)+": "+errString(res.err))
		a.HeldDown = true
	}
	if res.winner == nil {
		return false
	}
	a.Won = true
	race.Winners = append(race.Winners, *res.winner)
	return true
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// attempt runs one candidate's handshake on its own socket, which it closes
// unless the candidate wins.
func (r *Resolver) attempt(ctx, parent context.Context, i int, c Candidate, start time.Time) (res attemptResult) {
	res.idx = i
	defer func() { res.ended = time.Since(start) }()
	actx, cancel := context.WithTimeout(ctx, r.attemptTimeout())
	defer cancel()
	fail := func(err error, hold bool) attemptResult {
		res.err = err
		switch {
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			res.outcome = OutcomeCancelled
			if parent.Err() != nil {
				res.err = parent.Err()
			} else {
				res.err = errors.New("another relay answered first")
			}
		case errors.Is(err, context.DeadlineExceeded):
			res.outcome, res.hold = OutcomeTimeout, true
			res.err = fmt.Errorf("no valid answer within %v", r.attemptTimeout())
		case errors.Is(err, ErrLimit):
			res.outcome, res.hold = OutcomeLimit, true
		default:
			res.outcome, res.hold = OutcomeError, hold
		}
		return res
	}

	network := "udp4"
	if c.Addr.Addr().Is6() && !c.Addr.Addr().Is4In6() {
		network = "udp6"
	}
	pc, err := r.listenPacket(actx, network, ":0")
	if err != nil {
		return fail(err, false)
	}
	won := false
	defer func() {
		if !won {
			pc.Close()
		}
	}()
	ignore := func(netip.AddrPort, error) { res.ignored++ }

	w := &Winner{Candidate: c, Relay: c.Addr, Conn: pc}
	if r.DirectRequest && c.DiscoveryOptional {
		res.direct = true
	} else {
		adv, err := amt.Discover(actx, pc, c.Addr, ignore)
		if err != nil {
			return fail(err, false)
		}
		if !usableRelayAddr(adv.Relay) {
			return fail(fmt.Errorf("%w: %v", ErrBadAdvertisement, adv.Relay), true)
		}
		w.Relay = netip.AddrPortFrom(adv.Relay, c.Addr.Port())
		if !r.Confirm {
			res.outcome = OutcomeAdvertised
			won = true
			w.Elapsed = time.Since(start)
			res.winner = w
			return res
		}
	}
	q, err := amt.Query(actx, pc, w.Relay, r.MLD, ignore)
	if err != nil {
		return fail(err, false)
	}
	if q.Limit {
		return fail(fmt.Errorf("%w by %v", ErrLimit, w.Relay), true)
	}
	res.outcome = OutcomeConnected
	w.Query = &q
	w.Elapsed = time.Since(start)
	won = true
	res.winner = w
	return res
}
