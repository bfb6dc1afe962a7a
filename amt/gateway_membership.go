package amt

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// unsolicitedReportInterval bounds the random wait before a
// state-change report is sent again (RFC 3376 §8.11, RFC 3810 §9.11).
const unsolicitedReportInterval = time.Second

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
		err := g.reportJoin(ch)
		g.unlock()
		return err
	}
	return g.awaitQuery(ctx, ch)
}

// reportJoin sends the ALLOW_NEW_SOURCES report for ch, just added, with
// the last Query's nonce and MAC, unless the relay's L flag forbids it
// (ErrLimit, ch removed again), and keeps the membership refreshed. g.mu
// is held.
func (g *Gateway) reportJoin(ch Channel) error {
	if g.q.Limit && !g.reported {
		g.removeChannel(ch)
		return ErrLimit
	}
	g.stateChange(ch, AllowNewSources)
	if g.refresh == nil && g.nonce == 0 {
		g.armRefresh()
	}
	return nil
}

// awaitQuery waits for the next Membership Query, whose current-state
// report carries ch, just added: there is no Response MAC yet, or only a
// stale one (RFC 7450 §5.2.3.6.1). It sends a Request unless one is
// awaiting its Query. On an error ch is removed again. g.mu is held on
// entry and released on return.
func (g *Gateway) awaitQuery(ctx context.Context, ch Channel) error {
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
		g.removeChannel(ch)
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
	g.removeChannel(ch)
	if g.q != nil {
		g.stateChange(ch, BlockOldSources)
	}
	if len(g.channels) == 0 {
		// No subscription: no membership to refresh (§5.2.3.5.1 asks
		// for no Updates then), and no Query to ask for.
		g.stop(&g.refresh)
		g.stop(&g.reqTimer)
		g.nonce = 0
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

// stateChange is a state-change report still to be sent again.
type stateChange struct {
	typ   RecordType
	left  int
	timer *gwTimer
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

// setChannels publishes the channels joined to the read loop; g.mu is
// held.
func (g *Gateway) setChannels(chs []Channel) {
	g.channels = chs
	g.joined.Store(&chs)
}

// removeChannel takes ch out of the channels joined; g.mu is held.
func (g *Gateway) removeChannel(ch Channel) {
	g.setChannels(slices.DeleteFunc(slices.Clone(g.channels), func(c Channel) bool { return c == ch }))
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
