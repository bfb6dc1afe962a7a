package amtrelay

// staticPolicy lists the eligible relays with their configured
// precedence, in Corefile order.
type staticPolicy struct{}

func newStaticPolicy(*group) (policy, error) { return staticPolicy{}, nil }

func (staticPolicy) rank(q *query) ranking {
	cs := inOrder(q, q.group.limit)
	for i := range cs {
		cs[i].precedence = cs[i].relay.record.Precedence
		cs[i].score = float64(cs[i].precedence)
	}
	return ranking{chosen: cs}
}
