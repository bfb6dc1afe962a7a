package amtrelayrr

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// opaqueType is the type code AMTRELAY records wear while miekg/dns unpacks
// a message: one it does not know, so it keeps their RDATA as *dns.RFC3597.
// Records are put back to type 260 by position, so real records of this
// type in the same message are left alone.
const opaqueType = 65534

// UnpackMsg unpacks a DNS message like (*dns.Msg).Unpack, except that
// AMTRELAY records come back as *dns.RFC3597 of type 260 (decode them with
// FromRR) instead of failing with "dns: bad rdlength" when their D-bit is set.
func UnpackMsg(raw []byte) (*dns.Msg, error) {
	buf := append([]byte(nil), raw...)
	positions, err := hideAMTRELAY(buf)
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf); err != nil {
		return nil, err
	}
	if len(positions) == 0 {
		return m, nil
	}
	i, next := 0, 0
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			if next < len(positions) && positions[next] == i {
				rr.Header().Rrtype = dns.TypeAMTRELAY
				next++
			}
			i++
		}
	}
	return m, nil
}

// hideAMTRELAY rewrites, in place, the TYPE of every type-260 record in msg
// to opaqueType, and returns their positions counted across the answer,
// authority and additional sections.
func hideAMTRELAY(msg []byte) ([]int, error) {
	if len(msg) < 12 {
		return nil, fmt.Errorf("amtrelayrr: message of %d octets is shorter than a DNS header", len(msg))
	}
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	rrs := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	off := 12
	var err error
	for range qd {
		if _, off, err = dns.UnpackDomainName(msg, off); err != nil {
			return nil, fmt.Errorf("amtrelayrr: question name: %w", err)
		}
		off += 4
	}
	var positions []int
	for i := range rrs {
		if _, off, err = dns.UnpackDomainName(msg, off); err != nil {
			return nil, fmt.Errorf("amtrelayrr: record %d name: %w", i, err)
		}
		if off+10 > len(msg) {
			return nil, fmt.Errorf("amtrelayrr: record %d header runs past the message", i)
		}
		if binary.BigEndian.Uint16(msg[off:]) == dns.TypeAMTRELAY {
			binary.BigEndian.PutUint16(msg[off:], opaqueType)
			positions = append(positions, i)
		}
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
		if off > len(msg) {
			return nil, fmt.Errorf("amtrelayrr: record %d RDATA runs past the message", i)
		}
	}
	return positions, nil
}

// ErrIDMismatch means a reply's ID differs from the query's.
var ErrIDMismatch = errors.New("amtrelayrr: reply ID does not match the query")

// Exchange sends m to the server at addr with c and reads the reply with
// UnpackMsg, so AMTRELAY records with the D-bit set decode. It is
// (*dns.Client).ExchangeContext without miekg/dns's AMTRELAY unpacking bug.
// Replies with another ID are skipped, up to the deadline. It does not retry
// over TCP when the reply is truncated: the caller decides that.
func Exchange(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, time.Duration, error) {
	conn, err := c.DialContext(ctx, addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		timeout := c.Timeout
		if timeout == 0 {
			timeout = 2 * time.Second
		}
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if opt := m.IsEdns0(); opt != nil && opt.UDPSize() > dns.MinMsgSize {
		conn.UDPSize = opt.UDPSize()
	}
	start := time.Now()
	if err := conn.WriteMsg(m); err != nil {
		return nil, 0, err
	}
	_, udp := conn.Conn.(net.PacketConn)
	for {
		raw, err := conn.ReadMsgHeader(nil)
		if udp && (errors.Is(err, dns.ErrShortRead) || err == nil && binary.BigEndian.Uint16(raw) != m.Id) {
			continue // not a reply to m: skip it before trying to unpack it
		}
		if err != nil {
			return nil, time.Since(start), err
		}
		r, err := UnpackMsg(raw)
		if err != nil {
			return nil, time.Since(start), err
		}
		if r.Id == m.Id {
			return r, time.Since(start), nil
		}
		if !udp {
			return nil, time.Since(start), ErrIDMismatch
		}
	}
}
