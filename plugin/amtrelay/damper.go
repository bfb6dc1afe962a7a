package amtrelay

// damper applies flap damping to one relay's probe rounds: the relay goes
// down after downAfter failed rounds in a row and up after upAfter good
// ones. The first round sets the state at once. It keeps no clock: it
// counts rounds, so its behaviour is tested without waiting.
type damper struct {
	downAfter, upAfter int
	rounds             int
	fails, passes      int
	down               bool
}

// verdict is what a damper concludes from one round.
type verdict struct {
	down    bool // the relay is down after this round
	changed bool // this round changed the state, or set it (first round)
	streak  int  // the failed or good rounds in a row that decided it
}

func (d *damper) first() bool { return d.rounds == 0 }

// observe takes one round's result and returns the verdict.
func (d *damper) observe(ok bool) verdict {
	first := d.first()
	d.rounds++
	if ok {
		d.passes, d.fails = d.passes+1, 0
	} else {
		d.fails, d.passes = d.fails+1, 0
	}
	was := d.down
	switch {
	case first:
		d.down = !ok
	case was:
		d.down = d.passes < d.upAfter
	default:
		d.down = d.fails >= d.downAfter
	}
	streak := d.passes
	if d.down {
		streak = max(d.fails, 1)
	}
	return verdict{down: d.down, changed: first || d.down != was, streak: streak}
}
