package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Outcome is how one connection attempt ended.
type Outcome string

// Attempt outcomes.
const (
	// OutcomeConnected: a Membership Query without the L flag answered
	// the Request, RFC 8777 §3.2.3's definition of a connection.
	OutcomeConnected Outcome = "connected"
	// OutcomeAdvertised: with Resolver.AdvertOnly, a valid Relay
	// Advertisement arrived, with the Discovery's nonce, from the address
	// and port the Discovery went to (RFC 7450 §5.2.3.4.4).
	OutcomeAdvertised Outcome = "advertised"
	// OutcomeLimit: the Membership Query had the L flag set (RFC 8777
	// §3.3.5). The relay is held down.
	OutcomeLimit Outcome = "limit"
	// OutcomeTimeout: no valid answer within AttemptTimeout. The address
	// that did not answer gets a timeout penalty (see HoldDown).
	OutcomeTimeout Outcome = "timeout"
	// OutcomeHeld: the relay advertised is in hold-down, so no Request
	// was sent to it.
	OutcomeHeld Outcome = "held"
	// OutcomeDuplicate: the relay advertised is already connected, or
	// being tried, by another attempt of the race.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeError: the attempt failed at once: an ICMP error such as
	// port unreachable (connection refused), a local socket error, or an
	// unusable advertised address (then the Discovery address is held
	// down).
	OutcomeError Outcome = "error"
	// OutcomeCancelled: another attempt won first, or ctx ended. Never
	// penalised.
	OutcomeCancelled Outcome = "cancelled"
)

// Attempt is one candidate's try in a race, in start order.
type Attempt struct {
	Candidate Candidate
	// Relay is the relay the Advertisement named, at the candidate's port,
	// once one came; the candidate itself for a direct Request.
	Relay netip.AddrPort
	// Started and Ended are offsets from the start of the race.
	Started, Ended time.Duration
	Outcome        Outcome
	// Err says what went wrong, for the outcomes other than connected and
	// advertised.
	Err error
	// Direct is set when the D-bit let the attempt send a Request without
	// Relay Discovery (Resolver.DirectRequest).
	Direct bool
	// Ignored counts datagrams the attempt read and rejected: wrong nonce,
	// type or length.
	Ignored int
	// HeldDown is set when the outcome put a relay into hold-down: Relay
	// for an L flag or a Request timeout, the candidate for a Discovery
	// timeout or an unusable advertised address.
	HeldDown bool
	// Won is set for the attempts whose relays are in Race.Winners.
	Won bool
}

// Winner is a relay that answered.
type Winner struct {
	Candidate Candidate
	// Relay is where the gateway sends its Requests: the address the
	// Relay Advertisement gave, at the port the Discovery went to, or the
	// candidate itself when discovery was skipped.
	Relay netip.AddrPort
	// Query is the Membership Query that made the connection; nil with
	// AdvertOnly.
	Query *amt.MembershipQuery
	// Conn is a UDP socket connected to Relay; the relay has seen its
	// address and port when Query is set. The caller owns it: keep it for
	// the tunnel, or close it (Race.Close closes every winner's).
	Conn net.Conn
	// Elapsed is the time from the start of the race to the answer.
	Elapsed time.Duration
}

// Race is the outcome of Dial or Connect.
type Race struct {
	// Winners are the relays that answered, in the order they did; at most
	// the number asked for, and never the same relay twice.
	Winners []Winner
	// Attempts are the attempts made, in start order. Candidates never
	// started are not listed.
	Attempts []Attempt
	// Candidates is the ordered list the race drew from, as it stood when
	// the race ended, so a caller can run its own state machine over the
	// rest.
	Candidates []Candidate
	// Lookup is what Dial knew of the lookup when the race ended: its
	// Notes name the lookups still pending then.
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

// Dial finds the relays for source and connects to the first that answers,
// starting connection attempts as soon as a usable candidate is known,
// without waiting for lagging DNS answers (RFC 8777 §3.2.2, RFC 8305 §3).
// Candidates that arrive later join the list in their RFC 8777 §3.1.2
// place: a better one is tried next, and attempts already started go on.
// When a relay has connected, lookups still running are cancelled; the
// Race's Lookup lists what was known then.
//
// An invalid (zero) source skips the tiers that need it (DRIAD, seed).
// Dial returns the Race even with an error, which wraps ErrNoRelay when a
// type-0 AMTRELAY record arrived before any relay connected, ErrBadSource,
// ErrNoCandidates when no usable candidate was found, ErrAllFailed when
// every attempt failed, or ctx's error.
func (r *Resolver) Dial(ctx context.Context, source netip.Addr) (*Race, error) {
	return r.DialN(ctx, source, 1)
}

// DialN is Dial for n relays at once, for the active/active model of RFC
// 8777 §3.1.3: it goes on until n distinct relays have connected or every
// candidate has been tried. It returns an error only when none connected;
// compare len(Race.Winners) with n.
func (r *Resolver) DialN(ctx context.Context, source netip.Addr, n int) (*Race, error) {
	return r.dialN(ctx, source, n, nil)
}

// dialN is DialN with relays that count as already taken: a Session
// holding them asks for others (RFC 8777 §3.1.3).
func (r *Resolver) dialN(ctx context.Context, source netip.Addr, n int, taken []netip.AddrPort) (*Race, error) {
	r.init()
	res := &Result{Source: source, Rcode: -1}
	if source.IsValid() {
		rev, err := ReverseName(source)
		if err != nil {
			return &Race{Lookup: res}, err
		}
		res.ReverseName = rev
		r.tracef("driad: source %v, reverse name %s", source, rev)
	}
	lctx, cancel := context.WithCancel(ctx)
	f := newFeed(r)
	r.startTiers(lctx, f, source, res.ReverseName)
	race, err := r.race(ctx, f, n, taken)
	f.fill(res)
	cancel()
	f.wait()
	race.Lookup, race.Candidates = res, res.Candidates
	if errors.Is(err, errNothingToTry) {
		err = noCandidates(res)
	}
	return race, err
}

// Connect races the usable candidates, in their order, with Happy Eyeballs
// (RFC 8777 §3.2, RFC 8305 §5): it sends a Relay Discovery with a random
// non-zero nonce to the first, starts the next every
// ConnectionAttemptDelay (250 ms by default) or as soon as an attempt
// fails, and stops at the first relay that connects: that answers a
// Request with a Membership Query without the L flag (RFC 8777 §3.2.3),
// or, with AdvertOnly, that advertises. The others are cancelled, and
// Connect waits for them to end.
//
// Each attempt uses UDP sockets connected to the address it talks to, so
// an ICMP error fails it at once and the next one starts; a reply from any
// other address, which RFC 7450 §5.2.3.4.4 would reject anyway, is not
// even seen. The Request goes to the address the Advertisement gave, at
// the Discovery's port. An attempt whose advertised relay is in hold-down
// or already taken by another attempt ends without a Request.
//
// Candidates unusable for lack of an address or a source address are
// skipped, as are repeats. Those unusable because of a hold-down are tried
// only when nothing else is left, except hold-downs set with HoldDown.Add.
// Connect returns the Race even with an error, which wraps ErrAllFailed
// when every attempt failed, ErrNoCandidates when there was nothing to
// try, or ctx's error.
func (r *Resolver) Connect(ctx context.Context, cands []Candidate) (*Race, error) {
	return r.ConnectN(ctx, cands, 1)
}

// ConnectN is Connect for n relays at once, for the active/active model of
// RFC 8777 §3.1.3: the race goes on, in the same order, until n distinct
// relays have connected or every candidate has been tried. It returns an
// error only when none connected; compare len(Race.Winners) with n.
func (r *Resolver) ConnectN(ctx context.Context, cands []Candidate, n int) (*Race, error) {
	return r.connectN(ctx, cands, n, nil)
}

// connectN is ConnectN with relays that count as already taken.
func (r *Resolver) connectN(ctx context.Context, cands []Candidate, n int, taken []netip.AddrPort) (*Race, error) {
	r.init()
	race, err := r.race(ctx, fixedFeed(r, cands), n, taken)
	race.Candidates = cands
	if errors.Is(err, errNothingToTry) {
		err = fmt.Errorf("%w to connect to", ErrNoCandidates)
	}
	return race, err
}

// errNothingToTry ends a race that never started an attempt.
var errNothingToTry = errors.New("nothing to try")

// tryState is where a candidate address stands in a race.
type tryState uint8

const (
	untried  tryState = iota
	tried             // started
	deferred          // its advertised relay was held down: try again as a last resort
)

// race runs Happy Eyeballs over the candidates of f, as they come. The
// taken relays are neither tried nor won: an attempt whose Advertisement
// names one ends as a duplicate.
func (r *Resolver) race(ctx context.Context, f *feed, n int, taken []netip.AddrPort) (*Race, error) {
	n = max(n, 1)
	race := &Race{}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &raceState{claims: map[netip.AddrPort]bool{}}
	start := time.Now()
	results := make(chan attemptResult)
	states := map[netip.AddrPort]tryState{}
	won := map[netip.AddrPort]bool{}
	for _, a := range taken {
		st.claims[a], won[a] = true, true
	}
	running := 0
	// mayStart is set when the next attempt may start: at first, when the
	// Connection Attempt Delay has passed since the last start, and when
	// an attempt has failed (RFC 8305 §5). It stays set until a candidate
	// is there to use it.
	mayStart, lastResort := true, false
	delay := r.attemptDelay()
	var timer *time.Timer
	var timerC <-chan time.Time
	// holdC ends the wait of a candidate held for lookups that may find
	// a better one: at most the Resolution Delay after the first usable
	// candidate appeared (firstUsable).
	var holdC <-chan time.Time
	var firstUsable time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	launch := func(c Candidate, override bool) {
		i := len(race.Attempts)
		race.Attempts = append(race.Attempts, Attempt{Candidate: c, Started: time.Since(start)})
		states[c.Addr] = tried
		running++
		how := ""
		if override {
			how = " (in hold-down, tried as a last resort)"
		}
		r.tracef("attempt %d: %v %s started +%d ms%s", i+1, c.Addr, c.Tier, race.Attempts[i].Started.Milliseconds(), how)
		go func() { results <- r.attempt(ctx, st, i, c, override, start) }()
		if timer != nil {
			timer.Stop()
		}
		timer = time.NewTimer(delay)
		timerC = timer.C
	}
	record := func(res attemptResult) bool {
		a := &race.Attempts[res.idx]
		a.Relay, a.Ended, a.Outcome, a.Err = res.relay, res.ended, res.outcome, res.err
		a.Direct, a.Ignored, a.HeldDown = res.direct, res.ignored, res.heldDown
		if res.outcome == OutcomeHeld && states[a.Candidate.Addr] == tried && !lastResort {
			states[a.Candidate.Addr] = deferred
		}
		line := fmt.Sprintf("attempt %d: %v ended +%d ms: %s", res.idx+1, a.Candidate.Addr, res.ended.Milliseconds(), res.outcome)
		if res.relay.IsValid() && res.relay != a.Candidate.Addr {
			line += fmt.Sprintf(" (relay %v)", res.relay)
		}
		if res.err != nil {
			line += ": " + oneLine(res.err)
		}
		r.tracef("%s", line)
		if res.winner == nil {
			return false
		}
		if len(race.Winners) >= n {
			// Answered after the race was decided: not used.
			res.winner.Conn.Close()
			st.release(res.winner.Relay)
			return false
		}
		a.Won = true
		race.Winners = append(race.Winners, *res.winner)
		won[res.winner.Relay], won[a.Candidate.Addr] = true, true
		return true
	}

	var err error
loop:
	for len(race.Winners) < n {
		wake := f.changed()
		// Read before pick: a feed complete then was picked from whole.
		// Read after, a tier that added usable candidates and ended in
		// between would send the race to its last resort, a relay in
		// hold-down, ahead of them.
		complete := f.complete()
		if f.isNoRelay() {
			err = fmt.Errorf("%w (type-0 AMTRELAY record, RFC 8777 §4.2.3)", ErrNoRelay)
			break
		}
		if running == 0 {
			mayStart = true
		}
		if mayStart {
			if c, override, mayImprove, ok := f.pick(states, won, lastResort); ok {
				if firstUsable.IsZero() {
					firstUsable = time.Now()
				}
				wait := time.Until(firstUsable.Add(r.resolutionDelayTime()))
				if !mayImprove || wait <= 0 {
					launch(c, override)
					mayStart = false
					continue
				}
				r.tracef("%v %s waits up to %d ms for lookups that may find better", c.Addr, c.Tier, wait.Milliseconds())
				holdC = time.After(wait)
			}
		}
		if running == 0 && complete {
			if !lastResort {
				// Nothing usable is left: try what is held down, rather
				// than fail, unless HoldDown.Add holds it.
				lastResort = true
				continue
			}
			break
		}
		select {
		case <-holdC:
			holdC = nil
		case <-timerC:
			timerC = nil
			mayStart = true
		case res := <-results:
			running--
			if !record(res) {
				// A failure starts the next attempt at once. RFC 8305
				// §5's 10 ms floor is for the delay between attempts
				// that overlap; a failed one sends nothing more.
				mayStart = true
			}
		case <-wake:
		case <-ctx.Done():
			break loop
		}
	}
	cancel()
	for ; running > 0; running-- {
		record(<-results)
	}
	switch {
	case len(race.Winners) > 0:
		return race, nil
	case err != nil:
		return race, err
	case parent.Err() != nil:
		return race, parent.Err()
	case len(race.Attempts) == 0:
		return race, errNothingToTry
	}
	return race, fmt.Errorf("%w: %d attempts", ErrAllFailed, len(race.Attempts))
}

// pick returns the first candidate, in the current order, that the race
// may start: usable, not tried, and not already a winner's relay. As a
// last resort it also returns candidates held down by the Resolver itself
// (override), and those whose advertised relay was held down.
//
// mayImprove is set when a tier at or before the candidate's is still
// looking, so a better candidate may yet come: a DNS-SD relay, which RFC
// 8777 §3.1.2 puts strictly ahead of the anycast address and DRIAD, or
// the relay of a lower SRV priority or AMTRELAY precedence whose lookup
// is a few milliseconds behind. The race then waits at most the
// Resolution Delay (RFC 8305 §3) after its first usable candidate.
func (f *feed) pick(states map[netip.AddrPort]tryState, won map[netip.AddrPort]bool, lastResort bool) (c Candidate, override, mayImprove, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list, _ := f.arrange()
	for _, it := range list {
		a := it.c.Addr
		if !a.IsValid() || won[a] {
			continue
		}
		switch states[a] {
		case tried:
			continue
		case deferred:
			if !lastResort {
				continue
			}
		}
		switch {
		case it.out.Usable:
			return it.out, lastResort, !f.fixed && !lastResort && f.runningUpTo(it.rank), true
		case lastResort && it.held && !it.strict:
			return it.out, true, false, true
		}
	}
	return Candidate{}, false, false, false
}
