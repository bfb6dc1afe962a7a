package amt

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of a Gateway. Test with errors.Is.
var (
	// ErrChannel: the channel cannot be joined over this Gateway's
	// protocol (see Channel).
	ErrChannel = errors.New("amt: bad channel")
	// ErrLimit: the relay's Membership Query has the L flag and the
	// gateway reports no subscription to it (none yet, or all left): the
	// relay ignores Updates that would create a new tunnel endpoint (RFC
	// 7450 §5.1.4.4, §5.2.3.5.4).
	ErrLimit = errors.New("amt: relay takes no new gateways (L flag set)")
	// ErrClosed: the Gateway is closed.
	ErrClosed = errors.New("amt: gateway closed")
)

// Limits of a Gateway.
const (
	// DefaultBuffers is how many data packets a Gateway holds for Read.
	DefaultBuffers = 64
	// DefaultMaxDatagram is the largest AMT message a Gateway accepts: a
	// Multicast Data message carrying a 2046-octet IP datagram. Larger
	// ones are ignored.
	DefaultMaxDatagram = 2048
)

// A Gateway is the gateway side of one AMT tunnel (RFC 7450 §5.2.3): it
// joins and leaves channels through a relay, refreshes the membership
// before the relay's timeout, and delivers the multicast data. One socket,
// connected to the relay, carries both the control messages and the data;
// one goroutine reads it and sorts them by message type (§5.2.3.2), so no
// data is dropped while a Membership Query is awaited.
//
// Membership follows RFC 7450 §4.2.1.2 and §5.2.3.5–§5.2.3.6 with the
// host side of IGMPv3 (RFC 3376 §5) or MLDv2 (RFC 3810 §6) for
// source-specific channels (RFC 4604 §2.2):
//   - Join sends an ALLOW_NEW_SOURCES report and Leave a BLOCK_OLD_SOURCES
//     report, each [Robustness Variable] times at random intervals within
//     1 s (RFC 3376 §5.1, §8.11; RFC 7450 §5.2.1). Before the first
//     Membership Query there is no Response MAC to send them with: Join
//     then sends a Request and the state goes in the current-state report
//     that answers the Query (the RECOMMENDED way of §5.2.3.6.1).
//   - Each Membership Query accepted (its nonce that of the Request, from
//     the relay, §5.2.3.5.4) is answered with a current-state report, one
//     MODE_IS_INCLUDE record per group (RFC 3376 §5.2), and sets the query
//     timer to the Querier's Query Interval of its General Query (QQIC,
//     RFC 3376 §4.1.7, RFC 3810 §5.1.9; MembershipQuery.QueryInterval),
//     or RefreshMax if shorter. The relay forgets a gateway only after
//     its Robustness Variable times that interval plus a Query Response
//     Interval (§5.3.3.7), so the refresh comes well before.
//   - When the query timer fires, a Request with a fresh nonce goes out,
//     retransmitted on the back-off of §5.2.3.5.3; Updates meanwhile use
//     the last Query's nonce and MAC (§5.2.3.6.2).
//   - Close leaves every channel with one report of BLOCK_OLD_SOURCES
//     records, sent [Robustness Variable] times at once (§5.2.3.8: a
//     Membership Update that deletes the subscriptions), then closes
//     Conn. No Teardown is sent.
//
// Received data is checked as §5.2.3.3 asks: the connected socket takes
// datagrams from the relay only, ParseData checks the datagram and its
// checksums, and only data of a channel joined is delivered. The receive
// path does not allocate: packets wait in Buffers fixed buffers for Read,
// and when they are all taken the next data packets are dropped and
// counted (Stats.Overflow) while control messages are still handled.
//
// The zero value with Conn set is ready to use. Fields must not change
// once a method has been called. A Gateway's methods are safe for
// concurrent use.
type Gateway struct {
	// Conn is a UDP socket connected to the relay's address and AMT port,
	// such as gatewayresolver's Winner.Conn. The Gateway reads it from
	// the first Join on; Close closes it.
	Conn net.Conn
	// MLD selects MLDv2 over IPv6 (the Request's P flag, RFC 7450
	// §5.1.3.4) for IPv6 channels; false is IGMPv3 over IPv4, for IPv4
	// channels.
	MLD bool
	// Query is a Membership Query already received on Conn for a Request
	// with MLD's P flag, such as Winner.Query. The first Join then sends
	// its report at once with that Query's nonce and MAC, rather than a
	// Request first. It counts as received when the first method is
	// called, and is used only until its query interval has passed.
	Query *MembershipQuery
	// Clock runs the query, Request and report timers. Default the
	// system clock.
	Clock Clock
	// Buffers is how many data packets wait for Read. Default
	// DefaultBuffers.
	Buffers int
	// MaxDatagram is the largest AMT message accepted. Default
	// DefaultMaxDatagram.
	MaxDatagram int
	// RefreshMax, if positive, caps the query timer, to keep a NAT
	// mapping alive (RFC 7450 §5.2.3.5.4 allows a shorter timer).
	RefreshMax time.Duration
	// Notify, if set, is told of the relay's answers and silences. It is
	// called from the Gateway's goroutines, one call at a time, without
	// the Gateway's locks; it must not block.
	Notify func(GatewayEvent)
	// DataSeen, if set, is called from the read goroutine for each data
	// packet of a joined channel as it arrives, queued or not (a Session's
	// TrafficSeen). It must be quick.
	DataSeen func()

	once    sync.Once
	started bool
	slots   [][]byte
	full    chan packet
	free    chan int
	done    chan struct{} // closed when the read loop ends
	queried chan struct{} // closed at the first Membership Query accepted
	readErr error         // why the read loop ended; set before done closes
	joined  atomic.Pointer[[]Channel]
	stats   gatewayCounters

	mu        sync.Mutex
	closed    bool
	channels  []Channel
	q         *MembershipQuery
	qAt       time.Time // when q came
	reported  bool      // the last Update with a record reported subscriptions
	nonce     uint32    // of the Request awaiting its Query; 0: none
	tries     int       // transmissions of that Request
	reqTimer  *gwTimer
	refresh   *gwTimer
	changes   map[Channel]*stateChange
	next      chan struct{} // closed at the next Query accepted; nil: none asked for
	sendBuf   []byte
	events    []GatewayEvent
	notifying sync.Mutex
}

func (g *Gateway) clock() Clock {
	if g.Clock == nil {
		return SystemClock{}
	}
	return g.Clock
}

// init sets the Gateway up and starts its read loop; it reports
// ErrClosed after Close.
func (g *Gateway) init() error {
	g.once.Do(func() {
		if g.Conn == nil {
			return
		}
		n := g.Buffers
		if n <= 0 {
			n = DefaultBuffers
		}
		size := g.MaxDatagram
		if size <= 0 {
			size = DefaultMaxDatagram
		}
		g.slots = make([][]byte, n)
		g.full = make(chan packet, n)
		g.free = make(chan int, n)
		for i := range g.slots {
			g.slots[i] = make([]byte, size+1)
			g.free <- i
		}
		g.done = make(chan struct{})
		g.queried = make(chan struct{})
		g.changes = make(map[Channel]*stateChange)
		g.joined.Store(&[]Channel{})
		// A handshake on Conn (QueryConn, a race) leaves a read deadline.
		_ = g.Conn.SetReadDeadline(time.Time{})
		g.mu.Lock()
		if g.Query != nil {
			q := *g.Query
			g.acceptQuery(&q)
		}
		g.started = true
		g.mu.Unlock()
		go g.readLoop(make([]byte, size+1))
	})
	if !g.started {
		return fmt.Errorf("%w: no Conn", ErrClosed)
	}
	return nil
}

// Close leaves every channel joined (RFC 7450 §5.2.3.8), stops the
// timers, closes Conn and waits for the read loop to end. Packets still
// waiting can be read until Read returns ErrClosed.
func (g *Gateway) Close() error {
	if err := g.init(); err != nil {
		return nil
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	if g.q != nil && len(g.channels) > 0 {
		leave := Report{MLD: g.MLD}
		for _, ch := range g.channels {
			leave.Records = addSource(leave.Records, BlockOldSources, ch)
		}
		for range g.q.Robustness() {
			g.sendUpdate(leave)
		}
	}
	g.closed = true
	g.setChannels(nil)
	g.stop(&g.refresh)
	g.stop(&g.reqTimer)
	for ch, c := range g.changes {
		g.stop(&c.timer)
		delete(g.changes, ch)
	}
	g.unlock()
	err := g.Conn.Close()
	<-g.done
	return err
}
