package amt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"
)

// MaxMessage is the largest datagram a handshake accepts; longer replies are
// ignored as oversized.
const MaxMessage = 1500

// Retransmission bounds of RFC 7450 §5.2.3.4.3 and §5.2.3.5.3: the n-th
// retransmission waits a random time in [1 s, min(1 s·2^n, 120 s)].
const (
	retransmitInitial = time.Second
	retransmitMax     = 120 * time.Second
)

// IgnoreFunc is told about each datagram a handshake read and did not
// accept, with the reason (wrapping ErrNonce, ErrSource, ErrLength, ...).
type IgnoreFunc func(from netip.AddrPort, reason error)

// Discover sends a Relay Discovery with a fresh random nonce to relay over
// pc, and waits until ctx ends for the Relay Advertisement that RFC 7450
// §5.2.3.4.4 accepts: the same nonce, from relay's own address and port.
// Anything else is passed to ignore (which may be nil) and skipped. It
// retransmits the same Discovery on the §5.2.3.4.3 timer.
func Discover(ctx context.Context, pc net.PacketConn, relay netip.AddrPort, ignore IgnoreFunc) (Advertisement, error) {
	return discover(ctx, unconnected{pc, relay}, ignore)
}

// DiscoverConn is Discover over a UDP socket connected to the relay, such
// as one from net.Dial("udp", ...). The kernel then drops datagrams from
// any other address, and reports ICMP errors: a closed port (ICMP port
// unreachable) fails the exchange at once with an error wrapping
// syscall.ECONNREFUSED, rather than letting it wait for ctx to end.
func DiscoverConn(ctx context.Context, c net.Conn, ignore IgnoreFunc) (Advertisement, error) {
	return discover(ctx, connected{c}, ignore)
}

func discover(ctx context.Context, t transport, ignore IgnoreFunc) (Advertisement, error) {
	nonce, err := NewNonce()
	if err != nil {
		return Advertisement{}, err
	}
	msg := AppendDiscovery(nil, nonce)
	var adv Advertisement
	err = exchange(ctx, t, msg, ignore, func(b []byte) error {
		a, err := ParseAdvertisement(b)
		if err != nil {
			return err
		}
		if a.Nonce != nonce {
			return fmt.Errorf("%w: got %#08x, sent %#08x", ErrNonce, a.Nonce, nonce)
		}
		adv = a
		return nil
	})
	return adv, err
}

// Query sends a Request with a fresh random nonce to relay over pc, and
// waits until ctx ends for the Membership Query that §5.2.3.5.4 accepts:
// the same nonce, from relay's own address and port, carrying the general
// query that mld asked for. A query with the L flag set is returned: the
// caller decides what a full relay means (RFC 8777 §3.2.3, §3.3.5).
func Query(ctx context.Context, pc net.PacketConn, relay netip.AddrPort, mld bool, ignore IgnoreFunc) (MembershipQuery, error) {
	return query(ctx, unconnected{pc, relay}, mld, ignore)
}

// QueryConn is Query over a UDP socket connected to the relay; see
// DiscoverConn.
func QueryConn(ctx context.Context, c net.Conn, mld bool, ignore IgnoreFunc) (MembershipQuery, error) {
	return query(ctx, connected{c}, mld, ignore)
}

func query(ctx context.Context, t transport, mld bool, ignore IgnoreFunc) (MembershipQuery, error) {
	nonce, err := NewNonce()
	if err != nil {
		return MembershipQuery{}, err
	}
	msg := Request{Nonce: nonce, MLD: mld}.Append(nil)
	var q MembershipQuery
	err = exchange(ctx, t, msg, ignore, func(b []byte) error {
		mq, err := ParseMembershipQuery(b, mld)
		if err != nil {
			return err
		}
		if mq.Nonce != nonce {
			return fmt.Errorf("%w: got %#08x, sent %#08x", ErrNonce, mq.Nonce, nonce)
		}
		q = mq
		return nil
	})
	return q, err
}

// transport is a socket with the relay it talks to.
type transport interface {
	relay() netip.AddrPort
	send(msg []byte) error
	recv(buf []byte) (int, netip.AddrPort, error)
	setReadDeadline(t time.Time) error
}

// unconnected sends with WriteTo and checks each datagram's source.
type unconnected struct {
	pc net.PacketConn
	to netip.AddrPort
}

func (u unconnected) relay() netip.AddrPort { return u.to }
func (u unconnected) send(msg []byte) error {
	_, err := u.pc.WriteTo(msg, net.UDPAddrFromAddrPort(u.to))
	return err
}
func (u unconnected) recv(buf []byte) (int, netip.AddrPort, error) {
	n, from, err := u.pc.ReadFrom(buf)
	if err != nil {
		return n, netip.AddrPort{}, err
	}
	return n, addrPort(from), nil
}
func (u unconnected) setReadDeadline(t time.Time) error { return u.pc.SetReadDeadline(t) }

// connected uses a connected socket: every datagram read is from the relay.
type connected struct{ c net.Conn }

func (c connected) relay() netip.AddrPort { return addrPort(c.c.RemoteAddr()) }
func (c connected) send(msg []byte) error {
	_, err := c.c.Write(msg)
	return err
}
func (c connected) recv(buf []byte) (int, netip.AddrPort, error) {
	n, err := c.c.Read(buf)
	return n, c.relay(), err
}
func (c connected) setReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// exchange sends msg to the relay, retransmitting it, and reads datagrams
// until accept takes one or ctx ends.
func exchange(ctx context.Context, t transport, msg []byte, ignore IgnoreFunc, accept func([]byte) error) error {
	relay := t.relay()
	stop := context.AfterFunc(ctx, func() { _ = t.setReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	buf := make([]byte, MaxMessage+1)
	for n := 0; ; n++ {
		if err := t.send(msg); err != nil {
			return fmt.Errorf("amt: sending to %v: %w", relay, err)
		}
		_ = t.setReadDeadline(time.Now().Add(retransmitDelay(n)))
		// A cancellation from here on runs the AfterFunc after the line above.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err := readUntil(ctx, t, relay, buf, ignore, accept)
		if !errors.Is(err, errRetransmit) {
			return err
		}
	}
}

// errRetransmit means the read deadline for this transmission passed.
var errRetransmit = errors.New("retransmit")

func readUntil(ctx context.Context, t transport, relay netip.AddrPort, buf []byte, ignore IgnoreFunc, accept func([]byte) error) error {
	for {
		n, src, err := t.recv(buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errRetransmit
			}
			return fmt.Errorf("amt: reading from %v: %w", relay, err)
		}
		var reason error
		switch {
		case src.Addr().Unmap() != relay.Addr().Unmap() || src.Port() != relay.Port():
			reason = fmt.Errorf("%w: from %v, sent to %v", ErrSource, src, relay)
		case n > MaxMessage:
			reason = fmt.Errorf("%w: datagram over %d octets", ErrLength, MaxMessage)
		default:
			reason = accept(buf[:n])
		}
		if reason == nil {
			return nil
		}
		if ignore != nil {
			ignore(src, reason)
		}
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		return ua.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// retransmitDelay is the wait before the n-th retransmission: random in
// [1 s, min(1 s·2^n, 120 s)] (RFC 7450 §5.2.3.4.3).
func retransmitDelay(n int) time.Duration {
	hi := retransmitMax
	if n < 7 {
		hi = min(retransmitInitial<<n, retransmitMax)
	}
	if hi <= retransmitInitial {
		return retransmitInitial
	}
	return retransmitInitial + rand.N(hi-retransmitInitial+1)
}
