// Command mcsender is the end-to-end test bed's multicast source S1: it
// sends UDP datagrams to each GROUP:PORT given, RATE times a second each,
// from SOURCE, an address of interface IF, until it is stopped. The test
// runs it inside S1's namespace with ip netns exec.
//
//	mcsender -netns amte2e-s1 -if s1br -source 198.51.100.12 [-rate 20] 232.1.1.1:5001 232.1.1.2:5001
//
// Network safety (issue 16): on this host the route to 232.0.0.0/8 leads
// out of the real interface, so the sender is pinned with amttest.Sender
// (IP_MULTICAST_IF, a multicast TTL of 1: one link, and SO_BINDTODEVICE).
// It refuses to send unless Sender.Pinned reads every option back from
// the socket as set and the socket is bound to the device, and it sends
// on an interface other than lo only inside the named network namespace
// -netns (iproute2's, under /run/netns), checked before the socket opens.
//
// It writes one line when it starts sending, and then one every 5 s with
// the datagrams sent per group. Each payload is "GROUP N", N counting
// from 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
)

func main() {
	ifName := flag.String("if", "", "the `interface` to send on: lo, or one inside a test namespace")
	source := flag.String("source", "", "the source `address`, an IPv4 address of -if")
	rate := flag.Int("rate", 20, "datagrams a second to each group, 1 to 1000")
	nsName := flag.String("netns", "", "the network `namespace` it must be running in (required unless -if lo)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mcsender [-netns NAME] -if IF -source ADDRESS [-rate N] GROUP:PORT...")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *nsName, *ifName, *source, *rate, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mcsender:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, nsName, ifName, source string, rate int, groups []string) error {
	if ifName == "" || source == "" || len(groups) == 0 {
		return errors.New("-if, -source and at least one GROUP:PORT are needed; see -h")
	}
	if rate < 1 || rate > 1000 {
		return fmt.Errorf("-rate %d: want 1 to 1000 datagrams a second", rate)
	}
	src, err := netip.ParseAddr(source)
	if err != nil {
		return fmt.Errorf("-source: %w", err)
	}
	var dsts []netip.AddrPort
	for _, g := range groups {
		d, err := netip.ParseAddrPort(g)
		if err != nil || !d.Addr().Is4() || !d.Addr().IsMulticast() || d.Port() == 0 {
			return fmt.Errorf("%q: want an IPv4 multicast GROUP:PORT, such as 232.1.1.1:5001", g)
		}
		dsts = append(dsts, d)
	}
	if err := inNamespace(nsName, ifName); err != nil {
		return err
	}
	s, err := amttest.NewSender(ifName, src, 1)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Pinned(); err != nil {
		return fmt.Errorf("not sending, the socket is not pinned: %w", err)
	}
	if !s.BoundToDevice() {
		return fmt.Errorf("not sending: the socket is not bound to %s (SO_BINDTODEVICE needs root)", ifName)
	}
	fmt.Printf("pinned to %s (IP_MULTICAST_IF %s, TTL 1, SO_BINDTODEVICE %s); sending from %s to %s, %d a second each\n",
		ifName, src, ifName, s.Addr(), strings.Join(groups, " "), rate)

	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	sent := make([]int, len(dsts))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-report.C:
			fmt.Printf("sent %v\n", sent)
		case <-tick.C:
			for i, d := range dsts {
				if err := s.Send(d, fmt.Appendf(nil, "%s %d", d.Addr(), sent[i]+1)); err != nil {
					return fmt.Errorf("sending to %s: %w", d, err)
				}
				sent[i]++
			}
		}
	}
}

// inNamespace checks that the process runs inside the network namespace
// named nsName, unless it sends on lo: multicast on any other interface
// is safe only inside a test namespace.
func inNamespace(nsName, ifName string) error {
	if ifName == "lo" {
		return nil
	}
	if nsName == "" {
		return fmt.Errorf("-if %s: sending on an interface other than lo needs -netns, the test namespace this runs in", ifName)
	}
	want, err := os.Stat(filepath.Join("/run/netns", nsName))
	if err != nil {
		return fmt.Errorf("-netns %s: %w", nsName, err)
	}
	self, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if !os.SameFile(want, self) {
		return fmt.Errorf("refusing to send on %s: this process is not inside network namespace %s (run it with ip netns exec %s)", ifName, nsName, nsName)
	}
	return nil
}
