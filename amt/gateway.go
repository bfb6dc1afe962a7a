package amt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors of a Gateway. Test with errors.Is.
var (
	// ErrChannel: the channel cannot be joined over this Gateway's
	// protocol (see Channel).
	ErrChannel = errors.New("amt: bad channel")
	// ErrLimit: the relay's Membership Query has the L flag and the
	// gateway has reported no subscription to it yet: the relay ignores
	// Updates that would create a new tunnel endpoint (RFC 7450 §5.1.4.4,
	// §5.2.3.5.4).
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
	// requestTries is how many times a Request is sent without a
	// Membership Query before the Gateway reports GatewayNoResponse
	// (RFC 7450 §5.2.3.5.3): the first and 3 retransmissions, some 3 to
	// 15 s with the back-off of §5.2.3.5.3.
	requestTries = 4
	// unsolicitedReportInterval bounds the random wait before a
	// state-change report is sent again (RFC 3376 §8.11, RFC 3810 §9.11).
	unsolicitedReportInterval = time.Second
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
	reported  bool      // an Update with a record has been sent
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

// GatewayEventKind says what a GatewayEvent reports.
type GatewayEventKind uint8

// Gateway events.
const (
	// GatewayQuery: a Membership Query was accepted. Query is it; its
	// Limit is the L flag (RFC 8777 §3.3.5 makes that a reason to move).
	GatewayQuery GatewayEventKind = iota + 1
	// GatewayNoResponse: a Request was sent 4 times without a Membership
	// Query (RFC 7450 §5.2.3.5.3 says to look for another relay). The
	// Gateway goes on retransmitting.
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

// GatewayStats are a Gateway's counters since it started.
type GatewayStats struct {
	// Data counts the Multicast Data messages of joined channels queued
	// for Read; Overflow those dropped because every buffer was taken.
	Data, Overflow uint64
	// Ignored counts datagrams not taken: not AMT, malformed, failing a
	// check, not awaited, oversized, or data of a channel not joined.
	Ignored uint64
	// Queries counts Membership Queries accepted; Requests and Updates
	// the messages sent, retransmissions included.
	Queries, Requests, Updates uint64
	// SentPackets and SentBytes count the UDP datagrams sent and their
	// payload octets; ReceivedPackets and ReceivedBytes those read.
	SentPackets, SentBytes, ReceivedPackets, ReceivedBytes uint64
}

type gatewayCounters struct {
	data, overflow, ignored, queries, requests, updates atomic.Uint64
	sentPackets, sentBytes, recvPackets, recvBytes      atomic.Uint64
}

// packet is a data packet waiting in slots[idx].
type packet struct {
	idx int
	d   Data
}

// stateChange is a state-change report still to be sent again.
type stateChange struct {
	typ   RecordType
	left  int
	timer *gwTimer
}

// gwTimer is a timer of the Gateway's Clock; a timer that fires after
// being replaced or stopped does nothing.
type gwTimer struct{ t Timer }

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

// Join subscribes to channel (source, group): it returns once the report
// has been sent, or with an error when ctx ends first (after which the
// channel is not joined), the relay sets the L flag before any
// subscription (ErrLimit), or the channel is of the wrong family
// (ErrChannel). Joining a channel already joined does nothing.
func (g *Gateway) Join(ctx context.Context, source, group netip.Addr) error {
	ch := Channel{source, group}
	if err := ch.check(g.MLD); err != nil {
		return err
	}
	ch = ch.norm()
	if err := g.init(); err != nil {
		return err
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if slices.Contains(g.channels, ch) {
		g.mu.Unlock()
		return nil
	}
	g.setChannels(append(slices.Clip(g.channels), ch))
	if g.usableQuery() {
		if g.q.Limit && !g.reported {
			g.setChannels(slices.DeleteFunc(slices.Clone(g.channels), func(c Channel) bool { return c == ch }))
			g.mu.Unlock()
			return ErrLimit
		}
		g.stateChange(ch, AllowNewSources)
		if g.refresh == nil && g.nonce == 0 {
			g.armRefresh()
		}
		g.unlock()
		return nil
	}
	// No Response MAC yet, or only a stale one: the current-state report
	// answering the next Query carries the channel.
	if g.nonce == 0 {
		g.sendRequest()
	}
	waitFor := g.queried
	if g.q != nil {
		waitFor = g.nextQuery()
	}
	g.unlock()
	var err error
	select {
	case <-waitFor:
	case <-ctx.Done():
		err = ctx.Err()
	case <-g.done:
		err = g.readErr
	}
	g.mu.Lock()
	switch {
	case err == nil && g.closed:
		err = ErrClosed
	case err == nil && g.q.Limit && !g.reported:
		err = ErrLimit
	}
	if err != nil {
		g.setChannels(slices.DeleteFunc(slices.Clone(g.channels), func(c Channel) bool { return c == ch }))
		if len(g.channels) == 0 {
			g.stop(&g.reqTimer) // nothing left to ask for
			g.nonce = 0
		}
	}
	g.unlock()
	return err
}

// Leave unsubscribes from channel (source, group) with a BLOCK_OLD_SOURCES
// report (RFC 3376 §5.1, RFC 4604 §2.2); data of the channel is no longer
// delivered. Leaving a channel not joined does nothing.
func (g *Gateway) Leave(source, group netip.Addr) error {
	if err := g.init(); err != nil {
		return err
	}
	ch := Channel{source, group}.norm()
	g.mu.Lock()
	defer g.unlock()
	if g.closed {
		return ErrClosed
	}
	if !slices.Contains(g.channels, ch) {
		return nil
	}
	g.setChannels(slices.DeleteFunc(slices.Clone(g.channels), func(c Channel) bool { return c == ch }))
	if g.q != nil {
		g.stateChange(ch, BlockOldSources)
	}
	if len(g.channels) == 0 {
		// No subscription: no membership to refresh (§5.2.3.5.1 asks
		// for no Updates then).
		g.stop(&g.refresh)
	}
	return nil
}

// Channels returns the channels joined.
func (g *Gateway) Channels() []Channel {
	if p := g.joined.Load(); p != nil {
		return slices.Clone(*p)
	}
	return nil
}

// Read waits until ctx ends for the next data packet of a joined channel,
// copies its UDP payload into b, and returns it with Payload a slice of b.
// If b is too short the payload is cut and the error is io.ErrShortBuffer.
// After Close, or when the socket failed, it returns the packets still
// waiting, then the error: ErrClosed, or the socket's.
func (g *Gateway) Read(ctx context.Context, b []byte) (Data, error) {
	if err := g.init(); err != nil {
		return Data{}, err
	}
	var p packet
	select {
	case p = <-g.full:
	default:
		select {
		case p = <-g.full:
		case <-ctx.Done():
			return Data{}, ctx.Err()
		case <-g.done:
			select {
			case p = <-g.full:
			default:
				return Data{}, g.readErr
			}
		}
	}
	d := p.d
	n := copy(b, d.Payload)
	d.Payload = b[:n]
	var err error
	if n < len(p.d.Payload) {
		err = io.ErrShortBuffer
	}
	g.free <- p.idx
	return d, err
}

// Stats returns the Gateway's counters.
func (g *Gateway) Stats() GatewayStats {
	c := &g.stats
	return GatewayStats{
		Data: c.data.Load(), Overflow: c.overflow.Load(), Ignored: c.ignored.Load(),
		Queries: c.queries.Load(), Requests: c.requests.Load(), Updates: c.updates.Load(),
		SentPackets: c.sentPackets.Load(), SentBytes: c.sentBytes.Load(),
		ReceivedPackets: c.recvPackets.Load(), ReceivedBytes: c.recvBytes.Load(),
	}
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

// readLoop reads the socket until it is closed, sorting the messages by
// type (RFC 7450 §5.2.3.2). scratch takes a datagram when every buffer is
// taken.
func (g *Gateway) readLoop(scratch []byte) {
	defer close(g.done)
	max := len(scratch) - 1
	for {
		idx, buf := -1, scratch
		select {
		case idx = <-g.free:
			buf = g.slots[idx]
		default:
		}
		n, err := g.Conn.Read(buf)
		if err != nil {
			if idx >= 0 {
				g.free <- idx
			}
			if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
				g.post(GatewayEvent{Kind: GatewayUnreachable, Err: err})
				continue
			}
			g.mu.Lock()
			if g.closed || errors.Is(err, net.ErrClosed) {
				g.readErr = ErrClosed
			} else {
				g.readErr = fmt.Errorf("amt: reading from the relay: %w", err)
			}
			g.mu.Unlock()
			return
		}
		g.stats.recvPackets.Add(1)
		g.stats.recvBytes.Add(uint64(n))
		msg := buf[:n]
		switch {
		case n > max || n < 2 || msg[0]>>4 != 0:
			g.stats.ignored.Add(1)
		case Type(msg[0]&0x0f) == TypeMulticastData:
			if g.data(msg, idx) {
				idx = -1
			}
		case Type(msg[0]&0x0f) == TypeMembershipQuery:
			g.query(msg)
		default:
			g.stats.ignored.Add(1)
		}
		if idx >= 0 {
			g.free <- idx
		}
	}
}

// data queues a Multicast Data message held in slots[idx] (idx < 0: in
// the scratch buffer) and reports whether it took the slot.
func (g *Gateway) data(msg []byte, idx int) bool {
	d, err := ParseData(msg)
	if err != nil || !g.isJoined(d.Source, d.Group) {
		g.stats.ignored.Add(1)
		return false
	}
	if g.DataSeen != nil {
		g.DataSeen()
	}
	if idx < 0 {
		g.stats.overflow.Add(1)
		return false
	}
	g.stats.data.Add(1)
	g.full <- packet{idx, d} // never blocks: there are as many places as slots
	return true
}

func (g *Gateway) isJoined(s, grp netip.Addr) bool {
	for _, ch := range *g.joined.Load() {
		if ch.Source == s && ch.Group == grp {
			return true
		}
	}
	return false
}

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
	g.tries++
	g.stats.requests.Add(1)
	g.send(Request{Nonce: nonce, MLD: g.MLD}.Append(g.sendBuf[:0]))
	if g.tries == requestTries {
		g.events = append(g.events, GatewayEvent{Kind: GatewayNoResponse})
	}
	g.arm(&g.reqTimer, retransmitDelay(g.tries-1), func() { g.retransmitRequest(nonce) })
}

// stateChange sends a state-change report for ch and sends it again
// Robustness-1 times (RFC 3376 §5.1); a newer change for ch replaces an
// older one's retransmissions. g.mu is held.
func (g *Gateway) stateChange(ch Channel, t RecordType) {
	if old := g.changes[ch]; old != nil {
		g.stop(&old.timer)
	}
	c := &stateChange{typ: t, left: g.q.Robustness() - 1}
	g.changes[ch] = c
	r := Report{MLD: g.MLD, Records: addSource(nil, t, ch)}
	g.sendUpdate(r)
	var again func()
	again = func() {
		if g.changes[ch] != c || g.q == nil {
			return
		}
		g.sendUpdate(r)
		if c.left--; c.left > 0 {
			g.arm(&c.timer, g.reportDelay(), again)
		} else {
			delete(g.changes, ch)
		}
	}
	if c.left > 0 {
		g.arm(&c.timer, g.reportDelay(), again)
	} else {
		delete(g.changes, ch)
	}
}

// reportDelay is random in (0, [Unsolicited Report Interval]] (RFC 3376
// §5.1).
func (g *Gateway) reportDelay() time.Duration {
	return 1 + rand.N(unsolicitedReportInterval)
}

// sendUpdate sends r in a Membership Update with the last Query's nonce
// and MAC (RFC 7450 §5.2.3.6.2); g.mu is held.
func (g *Gateway) sendUpdate(r Report) {
	b, err := g.q.Update(r).Append(g.sendBuf[:0])
	if err != nil {
		return // cannot happen: channels are checked when joined
	}
	if len(r.Records) > 0 {
		g.reported = true
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

// arm sets *p to run f under g.mu after d; a timer already there is
// stopped. g.mu is held.
func (g *Gateway) arm(p **gwTimer, d time.Duration, f func()) {
	g.stop(p)
	tok := &gwTimer{}
	*p = tok
	tok.t = g.clock().AfterFunc(d, func() {
		g.mu.Lock()
		defer g.unlock()
		if *p != tok || g.closed {
			return
		}
		*p = nil
		f()
	})
}

func (g *Gateway) stop(p **gwTimer) {
	if *p != nil {
		(*p).t.Stop()
		*p = nil
	}
}

// setChannels publishes the channels joined to the read loop; g.mu is
// held.
func (g *Gateway) setChannels(chs []Channel) {
	g.channels = chs
	g.joined.Store(&chs)
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

// addSource adds ch's source to the record of type t for ch's group in
// recs, or a new record.
func addSource(recs []GroupRecord, t RecordType, ch Channel) []GroupRecord {
	for i := range recs {
		if recs[i].Type == t && recs[i].Group == ch.Group {
			recs[i].Sources = append(recs[i].Sources, ch.Source)
			return recs
		}
	}
	return append(recs, GroupRecord{Type: t, Group: ch.Group, Sources: []netip.Addr{ch.Source}})
}
