package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
	"github.com/amtrelay/amtrelay/amt/amttest"
	"github.com/amtrelay/amtrelay/internal/testenv"
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

// TestForward: with -forward, a gateway that joins (127.0.0.1, 232.1.1.1)
// receives what a sender pinned to lo (TTL 0) sends to the group's port.
func TestForward(t *testing.T) {
	port := testenv.FreePort(t)
	outr, outw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	var errOut testenv.SyncBuffer
	go func() {
		done <- run([]string{"-forward", strconv.Itoa(port), "127.0.0.1:0"}, outw, &errOut, stop)
		outw.Close()
	}()
	defer func() { close(stop); <-done }()
	lines := bufio.NewScanner(outr)
	if !lines.Scan() {
		t.Fatalf("no output: %s", errOut.String())
	}
	relay, err := netip.ParseAddrPort(strings.TrimPrefix(lines.Text(), "answering AMT discovery on "))
	if err != nil || !lines.Scan() || !strings.Contains(lines.Text(), "forwarding") {
		t.Fatalf("output %q, %v", lines.Text(), err)
	}
	go io.Copy(io.Discard, outr)

	conn, err := net.Dial("udp", relay.String())
	if err != nil {
		t.Fatal(err)
	}
	gw := &amt.Gateway{Conn: conn}
	defer gw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	ch := amt.Channel{Source: netip.MustParseAddr("127.0.0.1"), Group: netip.MustParseAddr("232.1.1.1")}
	if err := gw.Join(ctx, ch.Source, ch.Group); err != nil {
		t.Fatal(err)
	}
	sender, err := amttest.NewSender("lo", ch.Source, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	got := make(chan amt.Data, 1)
	go func() {
		if d, err := gw.Read(ctx, make([]byte, 2048)); err == nil {
			got <- d
		}
	}()
	for {
		if err := sender.Send(netip.AddrPortFrom(ch.Group, uint16(port)), []byte("forwarded")); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			if string(d.Payload) != "forwarded" || d.DestPort != uint16(port) {
				t.Errorf("got %+v", d)
			}
			return
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("nothing forwarded: %s", errOut.String())
		}
	}
}
