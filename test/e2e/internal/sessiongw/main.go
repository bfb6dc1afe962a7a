// Command sessiongw is the end-to-end test bed's long-running gateway: it
// keeps a subscription to one (S,G) channel on the right relay with a
// gatewayresolver.Session, joining through each relay the Session
// connects and leaving each it drops, and writes one JSON object a line
// to stdout for every Session event and, once a second, the data
// received through each relay. The test runs it inside the end user's
// namespace with ip netns exec (a namespace belongs to a thread, and Go's
// goroutines would escape it).
//
//	sessiongw -server 127.0.0.1[:53] -source S -group G [-traffic-timeout 2s]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/amtrelay/amtrelay/gatewayresolver"
)

// line is one line of output.
type line struct {
	Time  string `json:"time"`
	Event string `json:"event,omitempty"`
	Relay string `json:"relay,omitempty"`
	From  string `json:"from,omitempty"`
	Why   string `json:"reason,omitempty"`
	// Received counts data packets through Relay so far (event "data").
	Received int    `json:"received,omitempty"`
	Err      string `json:"error,omitempty"`
}

func main() {
	server := flag.String("server", "127.0.0.1", "the recursive resolver, `host[:port]` (port 53 by default)")
	source := flag.String("source", "", "the channel's source S")
	group := flag.String("group", "", "the channel's group G")
	traffic := flag.Duration("traffic-timeout", 2*time.Second, "the Session's traffic timeout (RFC 8777 §3.3.4.1)")
	flag.Parse()
	s, err1 := netip.ParseAddr(*source)
	g, err2 := netip.ParseAddr(*group)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "sessiongw: -source and -group must be addresses")
		os.Exit(2)
	}
	if _, _, err := net.SplitHostPort(*server); err != nil {
		*server = net.JoinHostPort(*server, "53")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, *server, s, g, *traffic))
}

func run(ctx context.Context, server string, source, group netip.Addr, traffic time.Duration) int {
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	emit := func(l line) {
		mu.Lock()
		defer mu.Unlock()
		l.Time = time.Now().UTC().Format(time.RFC3339Nano)
		out.Encode(l)
	}
	sess := &gatewayresolver.Session{
		Resolver: &gatewayresolver.Resolver{
			Servers: []string{server},
			Tiers:   []gatewayresolver.Tier{gatewayresolver.TierDRIAD},
		},
		Source:            source,
		TrafficTimeout:    traffic,
		TrafficTimeoutMax: traffic,
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()

	subs := map[netip.AddrPort]context.CancelFunc{}
	for ev := range sess.Events() {
		l := line{Event: ev.Kind.String(), Why: ev.Reason.String()}
		if ev.Relay.IsValid() {
			l.Relay = ev.Relay.Addr().String()
		}
		if ev.From.IsValid() {
			l.From = ev.From.Addr().String()
		}
		if ev.Err != nil {
			l.Err = ev.Err.Error()
		}
		emit(l)
		switch ev.Kind {
		case gatewayresolver.EventConnected:
			sub, err := gatewayresolver.Join(ctx, ev.Winner, source, group, gatewayresolver.JoinConfig{Session: sess})
			if err != nil {
				emit(line{Event: "join-failed", Relay: l.Relay, Err: err.Error()})
				continue
			}
			rctx, cancel := context.WithCancel(ctx)
			subs[ev.Relay] = cancel
			go receive(rctx, sub, emit)
		case gatewayresolver.EventDropped:
			if cancel, ok := subs[ev.Relay]; ok {
				cancel()
				delete(subs, ev.Relay)
			}
		}
	}
	for _, cancel := range subs {
		cancel()
	}
	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "sessiongw:", err)
		return 1
	}
	return 0
}

// receive reads the subscription's data until ctx ends, reporting the
// count once a second, and then leaves.
func receive(ctx context.Context, sub *gatewayresolver.Subscription, emit func(line)) {
	defer sub.Close()
	relay := sub.Relay().Addr().String()
	buf := make([]byte, 65535)
	n := 0
	last := time.Now()
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := sub.Read(rctx, buf)
		cancel()
		if err == nil {
			n++
		}
		if time.Since(last) >= time.Second || (err == nil && n == 1) {
			emit(line{Event: "data", Relay: relay, Received: n})
			last = time.Now()
		}
	}
}
