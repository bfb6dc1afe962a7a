package gatewayresolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// Lookup finds the relay candidates for multicast traffic from source and
// returns them in the order a gateway should try them (RFC 8777 §3.1.2):
// DNS-SD, then anycast, then DRIAD by precedence, each sorted by RFC 6724
// §6 with ties broken pseudorandomly. The DNS tiers are queried at once.
//
// An invalid (zero) source skips DRIAD and the seed lookup, as when a
// gateway starts before it knows a source (RFC 8777 §3.3.2). Failures of
// single tiers, and records skipped, are listed in Result.Notes.
//
// The Result is returned even with an error. The error wraps ErrNoRelay
// when DRIAD returned a type-0 record; then Candidates is empty, whatever
// the other tiers found, because the source's operator asked for no relay
// (RFC 8777 §4.2.3). It wraps ErrNoCandidates when no candidate is usable,
// and ErrBadSource for a multicast or unspecified source. Lookup takes as
// long as its slowest DNS tier: bound it with ctx.
func (r *Resolver) Lookup(ctx context.Context, source netip.Addr) (*Result, error) {
	r.init()
	res := &Result{Source: source}
	if source.IsValid() {
		rev, err := ReverseName(source)
		if err != nil {
			return res, err
		}
		res.ReverseName = rev
	}
	doDNSSD := !r.NoDNSSD
	doDRIAD := !r.NoDRIAD && source.IsValid()
	doSeed := r.SeedLookup && source.IsValid()

	var s *session
	if doDNSSD || doDRIAD || doSeed {
		var err error
		if s, err = r.newSession(); err != nil {
			for _, t := range []struct {
				on   bool
				tier Tier
			}{{doDNSSD, TierDNSSD}, {doDRIAD, TierDRIAD}, {doSeed, TierSeed}} {
				if t.on {
					res.Notes = append(res.Notes, Note{t.tier, err})
				}
			}
			doDNSSD, doDRIAD, doSeed = false, false, false
		}
	}

	var (
		wg                    sync.WaitGroup
		dnssd, driad, seed    []Candidate
		dnssdN, driadN, seedN []Note
		noRelay               bool
	)
	if doDNSSD {
		wg.Go(func() { dnssd, dnssdN = s.dnssd(ctx) })
	}
	if doDRIAD {
		wg.Go(func() {
			var relays []amtrelayrr.Relay
			var err error
			relays, noRelay, driadN, err = s.driad(ctx, res.ReverseName)
			if err != nil {
				driadN = append(driadN, Note{TierDRIAD, err})
				return
			}
			if noRelay {
				return
			}
			var more []Note
			driad, more = s.driadCandidates(ctx, relays)
			driadN = append(driadN, more...)
		})
	}
	if doSeed {
		wg.Go(func() {
			var err error
			if seed, err = s.seedCandidates(ctx, res.ReverseName); err != nil {
				seedN = []Note{{TierSeed, err}}
			}
		})
	}
	wg.Wait()
	res.Notes = append(res.Notes, dnssdN...)
	res.Notes = append(res.Notes, driadN...)
	res.Notes = append(res.Notes, seedN...)
	if noRelay {
		res.NoRelay = true
		return res, fmt.Errorf("%w (type-0 AMTRELAY record at %s, RFC 8777 §4.2.3)", ErrNoRelay, res.ReverseName)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	var all []Candidate
	all = append(all, dnssd...)
	if !r.NoAnycast {
		all = append(all, r.anycastCandidates()...)
	}
	all = append(all, driad...)
	all = append(all, seed...)
	res.Candidates = r.dedupe(r.order(all), &res.Notes)

	if len(res.Usable()) == 0 {
		return res, noCandidates(res)
	}
	return res, nil
}

// dedupe drops later copies of an address and port already in the list:
// the first place, the better one, is kept.
func (r *Resolver) dedupe(cands []Candidate, notes *[]Note) []Candidate {
	seen := map[netip.AddrPort]Tier{}
	out := cands[:0]
	for _, c := range cands {
		if c.Addr.IsValid() {
			if t, ok := seen[c.Addr]; ok {
				*notes = append(*notes, Note{c.Tier, fmt.Errorf("dropped %v: already a %s candidate", c.Addr, t)})
				continue
			}
			seen[c.Addr] = c.Tier
		}
		out = append(out, c)
	}
	return out
}

// noCandidates builds the ErrNoCandidates error, naming the first few
// reasons.
func noCandidates(res *Result) error {
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
