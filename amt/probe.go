package amt

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ProbeResult is what Probe saw.
type ProbeResult struct {
	// Data is the first packet of the channel (Payload copied), and
	// FirstData the time from the start of the probe to its arrival.
	Data      Data
	FirstData time.Duration
	// Stats are the tunnel's counters, the leave included: the probe's
	// cost in packets and octets.
	Stats GatewayStats
}

// Probe checks that the relay at relay (its unicast address and AMT port,
// no Relay Discovery) reaches the source of channel ch: it joins ch with
// a Request, a Membership Query and a Membership Update, waits until ctx
// ends for one data packet of ch (to UDP port port, unless port is 0),
// and always leaves, as Gateway.Close does (RFC 7450 §5.2.3.8), before it
// returns. Each probe makes the relay join toward the source and prune
// again. The error wraps ctx's when no data came in time.
func Probe(ctx context.Context, relay netip.AddrPort, ch Channel, port uint16) (res ProbeResult, err error) {
	start := time.Now()
	mld := ch.Group.Is6() && !ch.Group.Is4In6()
	if err := ch.check(mld); err != nil {
		return ProbeResult{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", relay.String())
	if err != nil {
		return ProbeResult{}, fmt.Errorf("amt: probing %v: %w", relay, err)
	}
	g := &Gateway{Conn: conn, MLD: mld, Buffers: 4}
	defer func() { g.Close(); res.Stats = g.Stats() }()
	if err := g.Join(ctx, ch.Source, ch.Group); err != nil {
		return res, fmt.Errorf("amt: joining %v through %v: %w", ch, relay, err)
	}
	buf := make([]byte, DefaultMaxDatagram)
	for {
		data, err := g.Read(ctx, buf)
		if err != nil {
			return res, fmt.Errorf("amt: no data of %v through %v: %w", ch, relay, err)
		}
		if port == 0 || data.DestPort == port {
			data.Payload = append([]byte(nil), data.Payload...)
			res.Data, res.FirstData = data, time.Since(start)
			return res, nil
		}
	}
}
