package amtrelay

import "sync/atomic"

// downFlag is a relay's down flag: one bit of a word. A server block's
// relays share their words (packDownFlags), 32 flags to a word, so that
// the flags of 10,000 relays take 1.25 kB: one page, which stays in the
// CPU's caches and in its TLB. Answers read the flags of the relays they
// list; with flags 4 octets apart (40 kB at 10,000 relays, ten pages),
// each flag read was a first-level miss and, since every system call
// empties the TLB of this kind of machine (no PCID), a TLB miss too.
//
// Its methods take a copy: the flag is the bit the copy points to.
type downFlag struct {
	word *atomic.Uint32
	mask uint32
}

// newDownFlag is a flag of its own, up, for a relay not yet in a server
// block.
func newDownFlag() downFlag { return downFlag{word: new(atomic.Uint32), mask: 1} }

// Load reports whether the flag is set: the relay is down.
func (d downFlag) Load() bool { return d.word.Load()&d.mask != 0 }

// Store sets or clears the flag, leaving the word's other flags alone.
func (d downFlag) Store(down bool) {
	if down {
		d.word.Or(d.mask)
	} else {
		d.word.And(^d.mask)
	}
}

// packDownFlags moves the down flags of a server block's relays into
// shared words, in relay order, keeping each relay's state, before
// anything reads them concurrently (nearIndex copies the flag).
func packDownFlags(relays []*relay) {
	words := make([]atomic.Uint32, (len(relays)+31)/32)
	for i, r := range relays {
		f := downFlag{word: &words[i/32], mask: 1 << (i % 32)}
		f.Store(r.down.Load())
		r.down = f
	}
}
