package amttest

import (
	"net"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/amtrelay/amtrelay/amt"
)

// TestForwardOwnMembershipOnly: a forwarding socket takes only what its own
// membership brings in (IP_MULTICAST_ALL off). With the default, a relay
// whose upstream was cut still forwarded what arrived on another
// interface of its network namespace for a socket of another relay
// (found by test/e2e).
func TestForwardOwnMembershipOnly(t *testing.T) {
	r, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip(err)
	}
	ch := amt.Channel{Source: netip.MustParseAddr("127.0.0.1"), Group: netip.MustParseAddr("232.1.1.9")}
	if err := r.startForward(lo, ch, 0); err != nil {
		t.Fatal(err)
	}
	r.fwdMu.Lock()
	pc := r.forwards[ch]
	r.fwdMu.Unlock()
	raw, err := pc.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	raw.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IP, unix.IP_MULTICAST_ALL) })
	if gerr != nil || v != 0 {
		t.Errorf("IP_MULTICAST_ALL = %d (%v), want 0", v, gerr)
	}
}
