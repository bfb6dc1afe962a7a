package gatewayresolver

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"
)

// feed is the candidate list of one lookup as it grows: the tiers add
// candidates the moment their answers arrive (RFC 8777 §3.2.2, RFC 8305
// §3), a race picks from it in its current order, and Lookup reads it once
// every tier has ended. It is safe for concurrent use.
type feed struct {
	r     *Resolver
	fixed bool // a list given to Connect: keep its order
	wg    sync.WaitGroup

	mu      sync.Mutex
	items   []*item
	notes   []Note
	waiting map[pendingLookup]int // questions being asked
	running int                   // tiers still running
	tiers   map[Tier]int          // the same, by tier
	noRelay bool
	rcode   int
	txt     map[string][]string // DNS-SD instance → TXT strings
	sources map[netip.Addr]srcResult
	ranks   map[Tier]int
	wake    chan struct{} // closed at each change
}

type pendingLookup struct {
	tier     Tier
	question string
}

type srcResult struct {
	src Source
	err error
}

func newFeed(r *Resolver) *feed {
	f := &feed{
		r: r, rcode: -1, wake: make(chan struct{}),
		waiting: map[pendingLookup]int{}, txt: map[string][]string{},
		sources: map[netip.Addr]srcResult{}, ranks: map[Tier]int{}, tiers: map[Tier]int{},
	}
	for i, t := range r.tiers() {
		f.ranks[t] = i
	}
	return f
}

// fixedFeed is a complete feed holding cands in their given order, for
// Connect.
func fixedFeed(r *Resolver, cands []Candidate) *feed {
	f := newFeed(r)
	f.fixed = true
	for i, c := range cands {
		it := &item{c: c, seq: i, given: c.Usable || !c.HeldUntil.IsZero()}
		it.c.Usable, it.c.Reason = false, ""
		it.why = c.Reason
		if c.Addr.IsValid() {
			it.src = c.Source
			if !it.src.Addr.IsValid() {
				it.src.Addr = c.Addr.Addr() // the caller vouched for it
			}
		}
		f.items = append(f.items, it)
	}
	return f
}

// rank is a tier's place in the order; tiers not configured (a list
// given to Connect may hold any) go last.
func (f *feed) rank(t Tier) int {
	if r, ok := f.ranks[t]; ok {
		return r
	}
	return len(f.ranks) + int(t)
}

// notify wakes whoever waits on changed. f.mu is held.
func (f *feed) notify() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// changed returns a channel closed at the next change.
func (f *feed) changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wake
}

// add puts candidates in the list, with their source addresses (RFC 6724
// §5) and tie-break keys, and wakes the race once for all of them.
func (f *feed) add(cs ...Candidate) {
	items := make([]*item, len(cs))
	for i, c := range cs {
		it := &item{c: c, why: c.Reason, key: f.r.tieKey(c)}
		it.c.Reason, it.c.Usable = "", false
		if c.Addr.IsValid() {
			it.src, it.srcErr = f.sourceOf(c.Addr.Addr())
		}
		items[i] = it
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		it.seq = len(f.items)
		it.rank = f.rank(it.c.Tier)
		if txt, ok := f.txt[it.c.Instance]; ok && it.c.Instance != "" {
			it.c.TXT = txt
		}
		f.items = append(f.items, it)
	}
	f.notify()
}

// sourceOf is the source address for destination a, looked up once.
func (f *feed) sourceOf(a netip.Addr) (Source, error) {
	f.mu.Lock()
	sr, ok := f.sources[a]
	f.mu.Unlock()
	if !ok {
		sr.src, sr.err = f.r.sourceFor()(a)
		if sr.err == nil && !sr.src.Addr.IsValid() {
			sr.err = fmt.Errorf("no source address for %v", a)
		}
		f.mu.Lock()
		f.sources[a] = sr
		f.mu.Unlock()
	}
	return sr.src, sr.err
}

// setTXT gives the TXT strings of a DNS-SD instance to its candidates,
// those listed and those to come.
func (f *feed) setTXT(instance string, txt []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txt[instance] = txt
	for _, it := range f.items {
		if it.c.Instance == instance {
			it.c.TXT = txt
		}
	}
}

func (f *feed) note(n Note) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, n)
	f.notify()
}

// pending lists a question as running until the returned func is called.
func (f *feed) pending(tier Tier, question string) (done func()) {
	k := pendingLookup{tier, question}
	f.mu.Lock()
	f.waiting[k]++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.waiting[k]--; f.waiting[k] == 0 {
				delete(f.waiting, k)
			}
		})
	}
}

func (f *feed) startTier(t Tier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running++
	f.tiers[t]++
	f.wg.Add(1)
}

func (f *feed) endTier(t Tier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running--
	f.tiers[t]--
	f.wg.Done()
	f.notify()
}

// runningUpTo reports whether a tier placed at or before rank is still
// running. The caller holds f.mu.
func (f *feed) runningUpTo(rank int) bool {
	for t, n := range f.tiers {
		if n > 0 && f.rank(t) <= rank {
			return true
		}
	}
	return false
}

// wait waits for every tier to end.
func (f *feed) wait() { f.wg.Wait() }

// complete reports whether every tier has ended.
func (f *feed) complete() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running == 0
}

func (f *feed) setNoRelay() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noRelay = true
	f.notify()
}

func (f *feed) isNoRelay() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.noRelay
}

func (f *feed) setRcode(rcode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rcode = rcode
}

// fill sets res's candidates, in order, its notes, and the DRIAD outcome.
// Lookups still running are named in the notes. A type-0 record leaves no
// candidates (RFC 8777 §4.2.3).
func (f *feed) fill(res *Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res.NoRelay, res.Rcode = f.noRelay, f.rcode
	res.Notes = slices.Clone(f.notes)
	res.Candidates = nil
	if !f.noRelay {
		list, dropped := f.arrange()
		for _, it := range list {
			res.Candidates = append(res.Candidates, it.out)
		}
		for _, it := range dropped {
			res.Notes = append(res.Notes, Note{it.c.Tier, fmt.Errorf("dropped %v: already a candidate", it.c.Addr)})
		}
	}
	var pend []pendingLookup
	for k := range f.waiting {
		pend = append(pend, k)
	}
	sort.Slice(pend, func(i, j int) bool {
		if pend[i].tier != pend[j].tier {
			return f.rank(pend[i].tier) < f.rank(pend[j].tier)
		}
		return pend[i].question < pend[j].question
	})
	for _, k := range pend {
		res.Notes = append(res.Notes, Note{k.tier, fmt.Errorf("%w: %s", errPending, k.question)})
	}
}
