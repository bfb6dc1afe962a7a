// Command amtresponder answers AMT relay discovery (RFC 7450 §5.1) on the
// UDP addresses it is given, like a relay would: a Relay Advertisement to
// each Relay Discovery and a Membership Query to each Request. It is the
// relay side of corefile-examples/health.corefile, for trying health
// probes by hand:
//
//	go run ./cmd/amtresponder 127.0.0.2:2268 127.0.0.3:2268 127.0.0.4:2268
//
// It accepts Membership Updates whose Response MAC and nonce check (RFC
// 7450 §5.3.3.4) and keeps which gateway joined which (S,G) channel. With
// -forward PORT it relays multicast too: for each IPv4 channel a gateway
// joins, it joins the channel on the interface -forward-if (default lo)
// with IP_ADD_SOURCE_MEMBERSHIP, no privilege needed, and sends each UDP
// datagram the kernel delivers to G:PORT to the gateways in Multicast
// Data messages (§5.1.6). Flags:
//
//	-delay 100ms     answer late
//	-full            set the L flag: the relay takes no new gateways
//	-forward PORT    forward the multicast data of joined IPv4 channels sent to UDP port PORT
//	-forward-if IF   the interface to join them on (default lo)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/amtrelay/amtrelay/amt/amttest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run starts the responders and waits for a signal, or for stop.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("amtresponder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	delay := fs.Duration("delay", 0, "hold each reply back this long")
	full := fs.Bool("full", false, "set the L flag in Membership Queries")
	forward := fs.Uint("forward", 0, "forward the multicast data of joined IPv4 channels sent to UDP `port` (0: none)")
	forwardIf := fs.String("forward-if", "lo", "the `interface` on which to join the channels gateways join")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: amtresponder [-delay D] [-full] [-forward PORT [-forward-if IF]] ADDRESS:PORT...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if *forward > 65535 {
		fmt.Fprintln(stderr, "amtresponder: -forward must be a UDP port, 1-65535")
		return 2
	}
	var relays []*amttest.Relay
	defer func() {
		for _, r := range relays {
			r.Close()
		}
	}()
	for _, addr := range fs.Args() {
		r, err := amttest.Start(addr)
		if err != nil {
			fmt.Fprintf(stderr, "amtresponder: %s: %v\n", addr, err)
			return 1
		}
		r.Set(amttest.Behaviour{Delay: *delay, Limit: *full})
		relays = append(relays, r)
		fmt.Fprintf(stdout, "answering AMT discovery on %s\n", r.Addr())
		if *forward != 0 {
			onErr := func(err error) { fmt.Fprintf(stderr, "amtresponder: %v\n", err) }
			if err := r.ForwardKernel(*forwardIf, uint16(*forward), onErr); err != nil {
				fmt.Fprintf(stderr, "amtresponder: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "%s: forwarding joined channels' data sent to port %d on %s\n", r.Addr(), *forward, *forwardIf)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-sig:
			return 0
		case <-stop:
			return 0
		case <-tick.C:
			for _, r := range relays {
				fmt.Fprintf(stdout, "%s: %d discoveries, %d requests, %d updates (%d rejected), channels %v\n", r.Addr(), r.Discoveries(), r.Requests(), r.Updates(), r.Rejected(), r.Channels())
			}
		}
	}
}
