package amtrelay

// policy orders a group's relays for one query (RFC 8777 §4.2.1: lower
// precedence values are tried first; equal values let gateways choose at
// random, §3.1.2). Implementations are unexported; String returns the
// Corefile keyword that selects them.
type policy interface {
	String() string
	// choose appends to out up to g.answer relays of g in answer order.
	choose(g *group, out []choice) []choice
}

// staticPolicy answers every relay with its configured precedence, in
// Corefile order.
type staticPolicy struct{}

func (staticPolicy) String() string { return "static" }

func (staticPolicy) choose(g *group, out []choice) []choice {
	for _, r := range g.relays {
		if g.answer > 0 && len(out) == g.answer {
			break
		}
		out = append(out, choice{relay: r, precedence: r.record.Precedence})
	}
	return out
}
