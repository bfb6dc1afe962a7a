package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

func TestResponderAnswersDiscovery(t *testing.T) {
	// The responder takes a free loopback port and says which.
	outr, outw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run([]string{"127.0.0.1:0"}, outw, &errOut, stop)
		outw.Close()
	}()
	lines := bufio.NewScanner(outr)
	if !lines.Scan() {
		close(stop)
		t.Fatalf("no output: exit %d, %s", <-done, errOut.String())
	}
	first := lines.Text()
	go io.Copy(io.Discard, outr) // the per-minute counts, if any
	addr, ok := strings.CutPrefix(first, "answering AMT discovery on ")
	ap, err := netip.ParseAddrPort(addr)
	if !ok || err != nil || ap.Port() == 0 {
		close(stop)
		<-done
		t.Fatalf("first line %q", first)
	}

	client, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// It listens before it says so: one Discover (retransmitting every
	// second or more) is enough.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adv, err := amt.Discover(ctx, client, ap, nil)
	close(stop)
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	if err != nil || adv.Relay.String() != "127.0.0.1" {
		t.Fatalf("Discover: %v, %v", adv, err)
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if code := run(nil, &out, &out, nil); code != 2 || !strings.Contains(out.String(), "usage") {
		t.Errorf("no arguments: exit %d, %q", code, out.String())
	}
	if code := run([]string{"not-an-address"}, &out, &out, nil); code != 1 {
		t.Errorf("bad address: exit %d", code)
	}
}
