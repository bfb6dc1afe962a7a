package amt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
)

// packet is a data packet waiting in slots[idx].
type packet struct {
	idx int
	d   Data
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
			if idx < 0 {
				idx, msg = g.takeSlot(msg)
			}
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

// takeSlot copies msg, read into the scratch buffer, into a buffer freed
// by Read while the loop waited for it, if there is one now; idx is -1
// if not.
func (g *Gateway) takeSlot(msg []byte) (idx int, in []byte) {
	select {
	case idx = <-g.free:
		return idx, g.slots[idx][:copy(g.slots[idx], msg)]
	default:
		return -1, msg
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
