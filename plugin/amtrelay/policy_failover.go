package amtrelay

// failoverPolicy lists the eligible relays in Corefile order, each with
// its own precedence: the operator's fixed order.
type failoverPolicy struct{}

func newFailoverPolicy(*group) (policy, error) { return failoverPolicy{}, nil }

func (failoverPolicy) rank(q *query) ranking {
	cs := inOrder(q, q.group.limit)
	assignPrecedence(cs)
	return ranking{chosen: cs}
}

// failoverFallback answers in the operator's failover order when a
// distance policy cannot place the client, and says why. The answer still
// depends on the client when the database had a record for its network
// (one without coordinates, or the empty network around it): clients in
// other networks get other answers, so the ECS scope must say so.
func failoverFallback(q *query, reason string) ranking {
	rk := failoverPolicy{}.rank(q)
	rk.fallback = reason
	rk.usesClient = q.loc.network.IsValid()
	return rk
}
