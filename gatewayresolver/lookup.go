package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// errPending marks the notes that name lookups still running when a
// result was taken.
var errPending = errors.New("lookup still pending")

// Lookup finds every relay candidate for multicast traffic from source and
// returns them in the order a gateway should try them (RFC 8777 §3.1.2):
// DNS-SD, then anycast, then DRIAD by precedence, each sorted by RFC 6724
// §6 and interleaved by family (RFC 8305 §4), with ties broken
// pseudorandomly. The tiers run at once. Lookup returns when every lookup
// has ended: for connecting, Dial is faster, since it does not wait.
//
// An invalid (zero) source skips DRIAD and the seed lookup, as when a
// gateway starts before it knows a source (RFC 8777 §3.3.2). Failures of
// single tiers, and records skipped, are listed in Result.Notes.
//
// The Result is returned even with an error. The error wraps ErrNoRelay
// when DRIAD returned a type-0 record; then Candidates is empty, whatever
// the other tiers found, because the source's operator asked for no relay
// (RFC 8777 §4.2.3). It wraps ErrNoCandidates when no candidate is usable,
// ErrBadSource for a multicast or unspecified source, and ctx's error when
// ctx ended first; then the Result holds what was known, and its Notes
// name the lookups still pending.
func (r *Resolver) Lookup(ctx context.Context, source netip.Addr) (*Result, error) {
	r.init()
	res := &Result{Source: source, Rcode: -1}
	if source.IsValid() {
		rev, err := ReverseName(source)
		if err != nil {
			return res, err
		}
		res.ReverseName = rev
		r.tracef("driad: source %v, reverse name %s", source, rev)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := newFeed(r)
	r.startTiers(lctx, f, source, res.ReverseName)
	for {
		wake := f.changed()
		if f.complete() {
			break
		}
		select {
		case <-wake:
		case <-ctx.Done():
			f.fill(res)
			cancel()
			f.wait()
			return res, ctx.Err()
		}
	}
	f.fill(res)
	if res.NoRelay {
		return res, fmt.Errorf("%w (type-0 AMTRELAY record at %s, RFC 8777 §4.2.3)", ErrNoRelay, res.ReverseName)
	}
	if len(res.Usable()) == 0 {
		return res, noCandidates(res)
	}
	return res, nil
}

// noCandidates builds the ErrNoCandidates error, naming the first few
// reasons.
func noCandidates(res *Result) error {
	if res.NoRelay {
		return fmt.Errorf("%w (type-0 AMTRELAY record at %s, RFC 8777 §4.2.3)", ErrNoRelay, res.ReverseName)
	}
	var why []string
	for _, c := range res.Candidates {
		if len(why) == 3 {
			break
		}
		why = append(why, label(c)+": "+c.Reason)
	}
	for _, n := range res.Notes {
		if len(why) == 3 {
			break
		}
		why = append(why, n.String())
	}
	if len(why) == 0 {
		return fmt.Errorf("%w: no tier returned a relay", ErrNoCandidates)
	}
	return fmt.Errorf("%w: %s", ErrNoCandidates, strings.Join(why, "; "))
}
