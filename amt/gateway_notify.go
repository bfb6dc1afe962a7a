package amt

// GatewayEventKind says what a GatewayEvent reports.
type GatewayEventKind uint8

// Gateway events.
const (
	// GatewayQuery: a Membership Query was accepted. Query is it; its
	// Limit is the L flag (RFC 8777 §3.3.5 makes that a reason to move).
	GatewayQuery GatewayEventKind = iota + 1
	// GatewayNoResponse: a Request was sent 4 times and the last
	// transmission's timeout passed too without a Membership Query (RFC
	// 7450 §5.2.3.5.3 says to look for another relay). The Gateway goes
	// on retransmitting.
	GatewayNoResponse
	// GatewayUnreachable: the socket reported an ICMP Destination
	// Unreachable (Err), such as a closed port on the relay (RFC 7450
	// §5.2.3.9). The Gateway goes on.
	GatewayUnreachable
)

// GatewayEvent is what a Gateway tells Notify.
type GatewayEvent struct {
	Kind  GatewayEventKind
	Query *MembershipQuery
	Err   error
}

// unlock releases g.mu and then tells Notify the events queued meanwhile.
func (g *Gateway) unlock() {
	evs := g.events
	g.events = nil
	g.mu.Unlock()
	for _, ev := range evs {
		g.post(ev)
	}
}

func (g *Gateway) post(ev GatewayEvent) {
	if g.Notify != nil {
		g.notifying.Lock()
		defer g.notifying.Unlock()
		g.Notify(ev)
	}
}
