package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Datagram is a multicast UDP datagram received through a relay: source
// S, group G, UDP ports and payload.
type Datagram = amt.Data

// JoinConfig says how Join runs the tunnel. The zero value works.
type JoinConfig struct {
	// Session, if set, is told what the tunnel sees of the relay the
	// Winner came from: TrafficSeen for each data packet, Limit for a
	// Membership Query with the L flag (RFC 8777 §3.3.5), NoResponse for
	// a Request unanswered after 4 transmissions (RFC 8777 §3.3.2 event 4,
	// RFC 7450 §5.2.3.5.3), and TrafficAbsent when the relay's port is
	// unreachable (an ICMP error: no traffic can come, RFC 7450
	// §5.2.3.9).
	Session *Session
	// Clock runs the refresh and retransmission timers. Default the
	// Session's Clock, else the system clock.
	Clock Clock
	// Buffers is how many packets wait for Read; more are dropped.
	// Default amt.DefaultBuffers.
	Buffers int
	// RefreshMax, if positive, caps the refresh interval, which is
	// otherwise the relay's Query Interval (RFC 7450 §5.2.3.5.4), to keep
	// a NAT mapping alive.
	RefreshMax time.Duration
}

// A Subscription is an (S,G) channel joined through one relay with Join.
// It refreshes its membership on the relay's query interval and leaves on
// Close. Its methods are safe for concurrent use.
type Subscription struct {
	gw    *amt.Gateway
	relay netip.AddrPort
	ch    amt.Channel
}

// Join subscribes to the channel (source, group) through the relay that w
// is connected to, over w's socket, which the Subscription owns from now
// on: one socket carries the Membership Updates and the data (RFC 7450
// §5.2.3). A group of the IPv6 family is joined with MLDv2, an IPv4 one
// with IGMPv3; w's Membership Query (Winner.Query) saves a Request when
// it was asked for the same protocol (Resolver.MLD). Join returns once
// the report is sent, or when ctx ends first; on an error, w's socket is
// closed. Errors wrap amt.ErrChannel (source or group of the wrong kind),
// amt.ErrLimit (the relay takes no new gateways), or ctx's.
//
// With a Session, call Join on each EventConnected and Close on the
// Subscription of each EventDropped.
func Join(ctx context.Context, w *Winner, source, group netip.Addr, c JoinConfig) (*Subscription, error) {
	if w == nil || w.Conn == nil {
		return nil, errors.New("gatewayresolver: Join needs a connected Winner")
	}
	mld := group.Is6() && !group.Is4In6()
	clock := c.Clock
	if clock == nil && c.Session != nil {
		clock = c.Session.Clock
	}
	gw := &amt.Gateway{Conn: w.Conn, MLD: mld, Clock: clock, Buffers: c.Buffers, RefreshMax: c.RefreshMax}
	if q := w.Query; q != nil && len(q.GeneralQuery) > 0 && (q.GeneralQuery[0]>>4 == 6) == mld {
		gw.Query = q
	}
	relay := w.Relay
	if s := c.Session; s != nil {
		gw.DataSeen = func() { s.TrafficSeen(relay) }
		gw.Notify = func(ev amt.GatewayEvent) {
			switch {
			case ev.Kind == amt.GatewayQuery && ev.Query.Limit:
				s.Limit(relay)
			case ev.Kind == amt.GatewayNoResponse:
				s.NoResponse(relay)
			case ev.Kind == amt.GatewayUnreachable:
				s.TrafficAbsent(relay)
			}
		}
	}
	if err := gw.Join(ctx, source, group); err != nil {
		gw.Close()
		return nil, fmt.Errorf("gatewayresolver: joining (%v,%v) through %v: %w", source, group, relay, err)
	}
	return &Subscription{gw: gw, relay: relay, ch: amt.Channel{Source: source, Group: group}}, nil
}

// Read waits until ctx ends for the next datagram of the channel, copies
// its payload into b, and returns it with Payload a slice of b (cut, with
// io.ErrShortBuffer, if b is too short). After Close it returns
// amt.ErrClosed.
func (s *Subscription) Read(ctx context.Context, b []byte) (Datagram, error) {
	return s.gw.Read(ctx, b)
}

// Relay is the relay the channel is joined through.
func (s *Subscription) Relay() netip.AddrPort { return s.relay }

// Channel is the channel joined.
func (s *Subscription) Channel() amt.Channel { return s.ch }

// Stats returns the tunnel's counters: packets delivered, dropped and
// ignored, messages and octets sent and received.
func (s *Subscription) Stats() amt.GatewayStats { return s.gw.Stats() }

// Close leaves the channel with a Membership Update (RFC 7450 §5.2.3.8),
// stops the refresh and closes the socket.
func (s *Subscription) Close() error { return s.gw.Close() }
