package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

func TestResponderAnswersDiscovery(t *testing.T) {
	// Find a free port, then let the responder take it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()

	stop := make(chan struct{})
	done := make(chan int)
	var out bytes.Buffer
	go func() { done <- run([]string{addr}, &out, &out, stop) }()

	client, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var adv amt.Advertisement
	for ctx.Err() == nil { // until the responder is listening
		try, c := context.WithTimeout(ctx, 100*time.Millisecond)
		adv, err = amt.Discover(try, client, netip.MustParseAddrPort(addr), nil)
		c()
		if err == nil {
			break
		}
	}
	close(stop)
	<-done // the output is complete once run returns
	if err != nil || adv.Relay.String() != "127.0.0.1" {
		t.Fatalf("Discover: %v, %v", adv, err)
	}
	if !strings.Contains(out.String(), "answering AMT discovery on "+addr) {
		t.Errorf("output %q", out.String())
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
