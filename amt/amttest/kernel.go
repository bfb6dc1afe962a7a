package amttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/amtrelay/amtrelay/amt"
)

// ForwardKernel makes the relay forward real multicast: for each IPv4
// channel (S,G) that a gateway joins, it opens a UDP socket bound to
// G:port, joins (S,G) on the interface named ifName with
// IP_ADD_SOURCE_MEMBERSHIP (MCAST_JOIN_SOURCE_GROUP, RFC 3678 §5.1; no
// privilege needed), and sends every datagram the kernel delivers there to
// the channel's gateways, as Send does, with its source port. When the
// last gateway leaves, the socket is closed, which leaves (S,G). IPv6
// channels are not forwarded. It stops when the relay closes.
//
// A join that fails (no such interface, a group the kernel refuses) is
// reported to onErr, which may be nil.
func (r *Relay) ForwardKernel(ifName string, port uint16, onErr func(error)) error {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return fmt.Errorf("amttest: forwarding from %s: %w", ifName, err)
	}
	if onErr == nil {
		onErr = func(error) {}
	}
	r.table.mu.Lock()
	r.table.watch = append(r.table.watch, func(ch amt.Channel, joined bool) {
		if !ch.Group.Is4() {
			return
		}
		if !joined {
			r.stopForward(ch)
			return
		}
		if err := r.startForward(ifi, ch, port); err != nil {
			onErr(err)
		}
	})
	r.table.mu.Unlock()
	return nil
}

// startForward joins ch on ifi and forwards what arrives at G:port.
func (r *Relay) startForward(ifi *net.Interface, ch amt.Channel, port uint16) error {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		// Sockets for (S1,G) and (S2,G) share G:port; the kernel filters
		// each by its source list. IP_MULTICAST_ALL off makes it deliver
		// to a socket only what its own membership (this channel, on
		// this interface) brings in, as a relay forwards only from its
		// upstream interface: by default a socket bound to G:port gets
		// G from every interface and source any socket of the host (or
		// network namespace) joined.
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1),
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0))
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort(ch.Group.String(), strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("amttest: forwarding %v: %w", ch, err)
	}
	p := ipv4.NewPacketConn(pc)
	if err := p.JoinSourceSpecificGroup(ifi, &net.UDPAddr{IP: ch.Group.AsSlice()}, &net.UDPAddr{IP: ch.Source.AsSlice()}); err != nil {
		pc.Close()
		return fmt.Errorf("amttest: joining %v on %s: %w", ch, ifi.Name, err)
	}
	r.fwdMu.Lock()
	if r.fwdClosed {
		r.fwdMu.Unlock()
		pc.Close()
		return nil
	}
	if r.forwards == nil {
		r.forwards = make(map[amt.Channel]net.PacketConn)
	}
	if old := r.forwards[ch]; old != nil {
		old.Close()
	}
	r.forwards[ch] = pc
	r.wg.Add(1)
	r.fwdMu.Unlock()
	go func() {
		defer r.wg.Done()
		buf := make([]byte, amt.MaxDataPayload)
		for {
			n, from, err := pc.(*net.UDPConn).ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if from.Addr().Unmap() != ch.Source {
				continue // the kernel filters by source; this is a second check
			}
			_, _ = r.Send(ch, from.Port(), port, buf[:n])
		}
	}()
	return nil
}

func (r *Relay) stopForward(ch amt.Channel) {
	r.fwdMu.Lock()
	defer r.fwdMu.Unlock()
	if pc := r.forwards[ch]; pc != nil {
		pc.Close()
		delete(r.forwards, ch)
	}
}

// closeForwards closes every forwarding socket, for Close.
func (r *Relay) closeForwards() {
	r.fwdMu.Lock()
	defer r.fwdMu.Unlock()
	r.fwdClosed = true
	for ch, pc := range r.forwards {
		pc.Close()
		delete(r.forwards, ch)
	}
}

// Forwarding reports the channels the relay has joined in the kernel.
func (r *Relay) Forwarding() []amt.Channel {
	r.fwdMu.Lock()
	defer r.fwdMu.Unlock()
	var out []amt.Channel
	for ch := range r.forwards {
		out = append(out, ch)
	}
	return out
}
