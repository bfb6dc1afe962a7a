package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/amtrelay/amtrelay/gatewayresolver"
)

// reception is what -join received.
type reception struct {
	relay     netip.AddrPort
	received  int
	first     time.Duration // from the join to the first packet
	elapsed   time.Duration // from the join to the last packet
	data      gatewayresolver.Datagram
	err       error
	joinError bool
}

// receive joins (source, group) through w and reads until count packets
// have come or ctx ends; then it leaves.
func receive(ctx context.Context, w *gatewayresolver.Winner, source, group netip.Addr, count int) *reception {
	rx := &reception{relay: w.Relay}
	start := time.Now()
	sub, err := gatewayresolver.Join(ctx, w, source, group, gatewayresolver.JoinConfig{})
	w.Conn = nil // the Subscription owns it, and Race.Close must not close it
	if err != nil {
		rx.err, rx.joinError = err, true
		return rx
	}
	defer sub.Close()
	buf := make([]byte, 65536)
	for rx.received < count {
		d, err := sub.Read(ctx, buf)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no data from (%v,%v) through %v within the -timeout", source, group, w.Relay)
			}
			rx.err = err
			break
		}
		if rx.received == 0 {
			rx.first = time.Since(start)
			rx.data = d
			rx.data.Payload = nil
		}
		rx.received++
		rx.elapsed = time.Since(start)
	}
	return rx
}

// printReception writes one line about the data received.
func printReception(w io.Writer, group netip.Addr, rx *reception) {
	if rx.received == 0 {
		fmt.Fprintf(w, "joined (%v) through %s: no data\n", group, rx.relay)
		return
	}
	d := rx.data
	fmt.Fprintf(w, "received %d packets of (%v,%v) through %s in %d ms, the first after %d ms, from %s to port %d\n",
		rx.received, d.Source, d.Group, rx.relay, rx.elapsed.Milliseconds(), rx.first.Milliseconds(),
		netip.AddrPortFrom(d.Source, d.SourcePort), d.DestPort)
}

// jsonJoin is what -join adds to the JSON object.
type jsonJoin struct {
	Group       string  `json:"group"`
	Received    int     `json:"received"`
	FirstDataMS *int64  `json:"first_data_ms"`
	DataSource  *string `json:"data_source"`
	SourcePort  *uint16 `json:"data_source_port"`
	DestPort    *uint16 `json:"data_dest_port"`
}

func joinJSON(group netip.Addr, rx *reception) *jsonJoin {
	j := &jsonJoin{Group: group.String()}
	if rx == nil {
		return j
	}
	j.Received = rx.received
	if rx.received > 0 {
		j.FirstDataMS = ptr(rx.first.Milliseconds())
		j.DataSource = ptr(rx.data.Source.String())
		j.SourcePort, j.DestPort = ptr(rx.data.SourcePort), ptr(rx.data.DestPort)
	}
	return j
}
