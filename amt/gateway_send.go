package amt

// sendUpdate sends r in a Membership Update with the last Query's nonce
// and MAC (RFC 7450 §5.2.3.6.2); g.mu is held.
func (g *Gateway) sendUpdate(r Report) {
	b, err := g.q.Update(r).Append(g.sendBuf[:0])
	if err != nil {
		return // cannot happen: channels are checked when joined
	}
	if len(r.Records) > 0 {
		// After the last channel's BLOCK the relay holds no subscription
		// of this gateway: a report now would make a new tunnel endpoint,
		// which an L flag forbids (RFC 7450 §5.2.3.5.4).
		g.reported = len(g.channels) > 0
	}
	g.stats.updates.Add(1)
	g.send(b)
}

// send writes msg to the relay, keeping its buffer; g.mu is held. A
// failed send is left to the retransmissions and the refresh.
func (g *Gateway) send(msg []byte) {
	g.sendBuf = msg[:0]
	if g.closed {
		return
	}
	if _, err := g.Conn.Write(msg); err == nil {
		g.stats.sentPackets.Add(1)
		g.stats.sentBytes.Add(uint64(len(msg)))
	}
}
