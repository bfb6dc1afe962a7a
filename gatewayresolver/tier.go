package gatewayresolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Tier is the discovery mechanism a candidate came from. Each tier lives in
// one file (dnssd.go, anycast.go, driad.go, seed.go) that declares its
// constant and registers how it runs; its constant's value is its place in
// the default order of RFC 8777 §3.1.2.
type Tier uint8

// String returns the tier's name: "dns-sd", "anycast", "driad" or "seed".
func (t Tier) String() string {
	if spec, ok := tierTable[t]; ok {
		return spec.name
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// MarshalText encodes t as its String.
func (t Tier) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// tierSpec is what every tier is: a name, whether it needs the source
// address, and a function that finds candidates and hands each to the
// tierRun as soon as it is known.
type tierSpec struct {
	name string
	// byDefault puts the tier in the default Resolver.Tiers.
	byDefault bool
	// needsSource skips the tier when no source is known yet (RFC 8777
	// §3.3.2, event 1).
	needsSource bool
	// dns means the tier queries DNS, and cannot run without servers.
	dns bool
	run func(ctx context.Context, t *tierRun)
}

// tierTable holds every tier, filled by each tier's file.
var tierTable = map[Tier]tierSpec{}

func registerTier(t Tier, spec tierSpec) {
	if _, dup := tierTable[t]; dup {
		panic(fmt.Sprintf("gatewayresolver: tier %d registered twice", t))
	}
	tierTable[t] = spec
}

// tiers returns the tiers to run, in order: Tiers without unknown or
// repeated entries, or the default ones by their constants' order.
func (r *Resolver) tiers() []Tier {
	var out []Tier
	if len(r.Tiers) == 0 {
		for t, spec := range tierTable {
			if spec.byDefault {
				out = append(out, t)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, t := range r.Tiers {
		if _, ok := tierTable[t]; ok && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// customTierOrder reports whether Tiers changes the relative order of
// RFC 8777 §3.1.2, for the reasons given.
func (r *Resolver) customTierOrder() bool { return !slices.IsSorted(r.tiers()) }

// tierRun is one tier's run within a lookup: what it needs to know, and
// where its findings go.
type tierRun struct {
	r       *Resolver
	f       *feed
	s       *session // nil for tiers without DNS
	tier    Tier
	source  netip.Addr
	reverse string
}

// add hands a candidate to the lookup at once.
func (t *tierRun) add(c Candidate) { t.addAll([]Candidate{c}) }

// addAll hands over the candidates of one answer together, so that the
// race sees them in their order: it never starts the first one given
// before a better one of the same answer is listed.
func (t *tierRun) addAll(cs []Candidate) {
	for i := range cs {
		cs[i].Tier = t.tier
	}
	t.f.add(cs...)
}

// note records a non-fatal problem.
func (t *tierRun) note(err error) { t.f.note(Note{t.tier, err}) }

// lookup is session.lookup, with the question listed as pending while it
// runs, so that a result taken early can name it.
func (t *tierRun) lookup(ctx context.Context, name string, qtype uint16) (answer, error) {
	done := t.f.pending(t.tier, questionString(name, qtype))
	defer done()
	return t.s.lookup(ctx, name, qtype)
}

// startTiers runs each configured tier in its own goroutine, feeding f.
// DNS tiers that cannot get a DNS configuration end with a note.
func (r *Resolver) startTiers(ctx context.Context, f *feed, source netip.Addr, reverse string) {
	var s *session
	var sessionErr error
	var once sync.Once
	for _, tier := range r.tiers() {
		spec := tierTable[tier]
		if spec.needsSource && !source.IsValid() {
			continue
		}
		t := &tierRun{r: r, f: f, tier: tier, source: source, reverse: reverse}
		if spec.dns {
			once.Do(func() { s, sessionErr = r.newSession() })
			if sessionErr != nil {
				t.note(sessionErr)
				continue
			}
			t.s = s
		}
		f.startTier(tier)
		go func() {
			defer f.endTier(tier)
			spec.run(ctx, t)
		}()
	}
}
