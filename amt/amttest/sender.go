package amttest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// Sender sends IPv4 multicast UDP datagrams pinned to one interface, as
// tests on this project's machines must: the host's route to
// 232.0.0.0/8 leads out of its real interface. A Sender sets the
// multicast interface (IP_MULTICAST_IF, by the interface's IPv4 address),
// a multicast TTL of 0 or 1, multicast loopback on, and, when running as
// root, binds the socket to the device (SO_BINDTODEVICE); Send checks
// those options on the socket itself before the first datagram leaves.
type Sender struct {
	conn   *net.UDPConn
	ifName string
	ifAddr [4]byte
	ttl    int
	bound  bool
	pinned bool
}

// NewSender opens a sender with source address source (port chosen by the
// kernel), pinned to interface ifName (such as "lo"), whose IPv4 address it
// must be, with multicast TTL ttl: 0 (the datagram reaches this host's
// sockets only) or 1 (one link).
func NewSender(ifName string, source netip.Addr, ttl int) (*Sender, error) {
	if ttl != 0 && ttl != 1 {
		return nil, fmt.Errorf("amttest: multicast TTL %d: a test sender uses 0 or 1", ttl)
	}
	if !source.Is4() {
		return nil, fmt.Errorf("amttest: sender source %v is not IPv4", source)
	}
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return nil, fmt.Errorf("amttest: sender interface: %w", err)
	}
	if !hasAddr(ifi, source) {
		return nil, fmt.Errorf("amttest: %v is not an address of %s", source, ifName)
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(source, 0)))
	if err != nil {
		return nil, err
	}
	s := &Sender{conn: conn, ifName: ifName, ifAddr: source.As4(), ttl: ttl, bound: os.Geteuid() == 0}
	if err := s.control(func(fd int) error {
		errs := []error{
			unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, s.ifAddr),
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, ttl),
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1),
		}
		if s.bound {
			errs = append(errs, unix.BindToDevice(fd, ifName))
		}
		return errors.Join(errs...)
	}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("amttest: pinning the sender to %s: %w", ifName, err)
	}
	return s, nil
}

func hasAddr(ifi *net.Interface, a netip.Addr) bool {
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if p, err := netip.ParsePrefix(x.String()); err == nil && p.Addr() == a {
			return true
		}
	}
	return false
}

func (s *Sender) control(f func(fd int) error) error {
	raw, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// Pinned reads the socket's options back and reports what is not pinned:
// the multicast interface, the multicast TTL (0 or 1) and, as root, the
// device the socket is bound to.
func (s *Sender) Pinned() error {
	return s.control(func(fd int) error {
		mif, err := unix.GetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF)
		if err != nil || mif != s.ifAddr {
			return fmt.Errorf("amttest: IP_MULTICAST_IF is %v (%v), want %v", netip.AddrFrom4(mif), err, netip.AddrFrom4(s.ifAddr))
		}
		ttl, err := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL)
		if err != nil || ttl > 1 || ttl != s.ttl {
			return fmt.Errorf("amttest: IP_MULTICAST_TTL is %d (%v), want %d", ttl, err, s.ttl)
		}
		if s.bound {
			dev, err := unix.GetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
			if err != nil || dev != s.ifName {
				return fmt.Errorf("amttest: SO_BINDTODEVICE is %q (%v), want %q", dev, err, s.ifName)
			}
		}
		return nil
	})
}

// BoundToDevice reports whether the socket is bound to its interface
// (SO_BINDTODEVICE needs root; without it the multicast interface and TTL
// still pin it).
func (s *Sender) BoundToDevice() bool { return s.bound }

// Addr is the sender's source address and port.
func (s *Sender) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Send sends payload to group, a multicast address and port. It refuses
// a destination that is not multicast, and checks the socket's pinning
// before the first datagram.
func (s *Sender) Send(group netip.AddrPort, payload []byte) error {
	if !group.Addr().Is4() || !group.Addr().IsMulticast() {
		return fmt.Errorf("amttest: %v is not an IPv4 multicast address", group)
	}
	if !s.pinned {
		if err := s.Pinned(); err != nil {
			return err
		}
		s.pinned = true
	}
	_, err := s.conn.WriteToUDPAddrPort(payload, group)
	return err
}

// Close closes the socket.
func (s *Sender) Close() error { return s.conn.Close() }
