package amt

// requestTries is how many transmissions of a Request go unanswered,
// each for its whole retransmission timeout, before the Gateway reports
// GatewayNoResponse (RFC 7450 §5.2.3.5.3; RFC 8777 §3.3.2 event 4: "after
// the gateway fails to receive a response"): the first and 3
// retransmissions, some 4 to 15 s with the back-off of §5.2.3.5.3.
const requestTries = 4

// query handles a Membership Query (RFC 7450 §5.2.3.5.4).
func (g *Gateway) query(msg []byte) {
	g.mu.Lock()
	defer g.unlock()
	if g.nonce == 0 || g.closed {
		g.stats.ignored.Add(1) // not waiting for one
		return
	}
	q, err := ParseMembershipQuery(msg, g.MLD)
	if err != nil || q.Nonce != g.nonce {
		g.stats.ignored.Add(1)
		return
	}
	g.acceptQuery(&q)
	g.events = append(g.events, GatewayEvent{Kind: GatewayQuery, Query: &q})
}

// acceptQuery takes q as the last Membership Query, answers it with a
// current-state report and sets the query timer; g.mu is held.
func (g *Gateway) acceptQuery(q *MembershipQuery) {
	g.stats.queries.Add(1)
	first := g.q == nil
	g.q, g.qAt, g.nonce, g.tries = q, g.clock().Now(), 0, 0
	g.stop(&g.reqTimer)
	if first {
		close(g.queried)
	} else {
		close(g.queriedAgain())
	}
	if len(g.channels) == 0 {
		return
	}
	if q.Limit && !g.reported {
		return // the relay would ignore it; Join reports ErrLimit
	}
	current := Report{MLD: g.MLD}
	for _, ch := range g.channels {
		current.Records = addSource(current.Records, ModeIsInclude, ch)
	}
	g.sendUpdate(current)
	g.armRefresh()
}

// nextQuery returns a channel closed when the next Query is accepted;
// g.mu is held.
func (g *Gateway) nextQuery() chan struct{} {
	if g.next == nil {
		g.next = make(chan struct{})
	}
	return g.next
}

// queriedAgain returns the channel of nextQuery, to close, and forgets it;
// g.mu is held.
func (g *Gateway) queriedAgain() chan struct{} {
	c := g.nextQuery()
	g.next = nil
	return c
}

// usableQuery reports whether the last Query's nonce and MAC may be used:
// the membership is being refreshed, or the Query came less than its
// query interval ago. g.mu is held.
func (g *Gateway) usableQuery() bool {
	if g.q == nil {
		return false
	}
	return g.refresh != nil || g.nonce != 0 || g.clock().Now().Sub(g.qAt) < g.q.QueryInterval()
}

// armRefresh sets the query timer (RFC 7450 §5.2.3.5.4); g.mu is held.
func (g *Gateway) armRefresh() {
	d := g.q.QueryInterval()
	if g.RefreshMax > 0 && g.RefreshMax < d {
		d = g.RefreshMax
	}
	g.arm(&g.refresh, d, func() {
		if len(g.channels) > 0 && g.nonce == 0 {
			g.sendRequest()
		}
	})
}

// sendRequest sends a Request with a fresh nonce (RFC 7450 §5.2.3.5.2,
// §5.2.3.5.6) and retransmits it until a Query comes; g.mu is held.
func (g *Gateway) sendRequest() {
	nonce, err := NewNonce()
	if err != nil {
		return // crypto/rand failed: the next timer tries again
	}
	g.nonce, g.tries = nonce, 0
	g.retransmitRequest(nonce)
}

func (g *Gateway) retransmitRequest(nonce uint32) {
	if g.nonce != nonce {
		return
	}
	if g.tries == requestTries {
		g.events = append(g.events, GatewayEvent{Kind: GatewayNoResponse})
	}
	g.tries++
	g.stats.requests.Add(1)
	g.send(Request{Nonce: nonce, MLD: g.MLD}.Append(g.sendBuf[:0]))
	g.arm(&g.reqTimer, retransmitDelay(g.tries-1), func() { g.retransmitRequest(nonce) })
}
