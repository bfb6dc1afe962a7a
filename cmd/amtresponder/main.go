// Command amtresponder answers AMT relay discovery (RFC 7450 §5.1) on the
// UDP addresses it is given, like a relay would: a Relay Advertisement to
// each Relay Discovery and a Membership Query to each Request. It is the
// relay side of corefile-examples/health.corefile, for trying health
// probes by hand:
//
//	go run ./cmd/amtresponder 127.0.0.2:2268 127.0.0.3:2268 127.0.0.4:2268
//
// It relays no multicast. Flags:
//
//	-delay 100ms   answer late
//	-full          set the L flag: the relay takes no new gateways
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: amtresponder [-delay D] [-full] ADDRESS:PORT...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
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
				fmt.Fprintf(stdout, "%s: %d discoveries, %d requests\n", r.Addr(), r.Discoveries(), r.Requests())
			}
		}
	}
}
