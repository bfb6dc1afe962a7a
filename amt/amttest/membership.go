package amttest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/amtrelay/amtrelay/amt"
)

// membership is a relay's group membership database: which tunnel
// endpoint (gateway address and port) joined which channel (RFC 7450
// §5.3.3.4), and the Response MACs it gave out.
type membership struct {
	secret [32]byte

	mu      sync.Mutex
	issued  map[netip.AddrPort][]uint32 // the last nonces answered, per endpoint
	members map[amt.Channel]map[netip.AddrPort]bool
	watch   []func(ch amt.Channel, joined bool)

	updates, rejected atomic.Int64
}

// issuedPerEndpoint is how many Request nonces per gateway stay valid: the
// last Query's and the one before, for an Update that crosses a refresh.
const issuedPerEndpoint = 2

func (m *membership) init() {
	_, _ = rand.Read(m.secret[:])
	m.issued = make(map[netip.AddrPort][]uint32)
	m.members = make(map[amt.Channel]map[netip.AddrPort]bool)
}

// mac is the Response MAC of RFC 7450 §5.3.5: a keyed hash of the
// gateway's address and port and the Request Nonce, cut to 48 bits.
func (m *membership) mac(gw netip.AddrPort, nonce uint32) [6]byte {
	h := hmac.New(sha256.New, m.secret[:])
	a := gw.Addr().Unmap().As16()
	h.Write(a[:])
	h.Write(binary.BigEndian.AppendUint16(nil, gw.Port()))
	h.Write(binary.BigEndian.AppendUint32(nil, nonce))
	return [6]byte(h.Sum(nil))
}

// issue records that a Membership Query with nonce goes to gw, and
// returns its Response MAC. A retransmitted Request's nonce is recorded
// once: it must not push out the nonce of the Query the gateway still
// uses meanwhile (RFC 7450 §5.2.3.6.2).
func (m *membership) issue(gw netip.AddrPort, nonce uint32) [6]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.issued[gw]
	if slices.Contains(n, nonce) {
		return m.mac(gw, nonce)
	}
	n = append(n, nonce)
	if len(n) > issuedPerEndpoint {
		n = n[len(n)-issuedPerEndpoint:]
	}
	m.issued[gw] = n
	return m.mac(gw, nonce)
}

// update applies a Membership Update from gw, if its nonce is one the
// relay answered gw with and its Response MAC is that nonce's for gw's
// address and port; else it changes nothing (RFC 7450 §5.3.3.4).
func (m *membership) update(msg []byte, gw netip.AddrPort) {
	u, err := amt.ParseUpdate(msg)
	if err != nil {
		m.rejected.Add(1)
		return
	}
	want := m.mac(gw, u.Nonce)
	m.mu.Lock()
	if !slices.Contains(m.issued[gw], u.Nonce) || !hmac.Equal(u.ResponseMAC[:], want[:]) {
		m.mu.Unlock()
		m.rejected.Add(1)
		return
	}
	m.updates.Add(1)
	var changed []func()
	set := func(ch amt.Channel, on bool) {
		eps := m.members[ch]
		if eps[gw] == on {
			return
		}
		if on {
			if eps == nil {
				eps = make(map[netip.AddrPort]bool)
				m.members[ch] = eps
			}
			eps[gw] = true
		} else {
			delete(eps, gw)
		}
		if first, last := on && len(eps) == 1, !on && len(eps) == 0; first || last {
			if last {
				delete(m.members, ch)
			}
			for _, w := range m.watch {
				changed = append(changed, func() { w(ch, on) })
			}
		}
	}
	for _, rec := range u.Report.Records {
		switch rec.Type {
		case amt.ModeIsInclude, amt.ChangeToIncludeMode:
			// The source list is now exactly rec.Sources (RFC 3376
			// §6.4); TO_IN({}) leaves the group.
			for ch := range m.members {
				if ch.Group == rec.Group && m.members[ch][gw] && !slices.Contains(rec.Sources, ch.Source) {
					set(ch, false)
				}
			}
			for _, s := range rec.Sources {
				set(amt.Channel{Source: s, Group: rec.Group}, true)
			}
		case amt.AllowNewSources:
			for _, s := range rec.Sources {
				set(amt.Channel{Source: s, Group: rec.Group}, true)
			}
		case amt.BlockOldSources:
			for _, s := range rec.Sources {
				set(amt.Channel{Source: s, Group: rec.Group}, false)
			}
		}
		// EXCLUDE-mode records, any-source multicast, are not kept: this
		// relay serves (S,G) channels only (RFC 4607).
	}
	m.mu.Unlock()
	for _, f := range changed {
		f()
	}
}

// endpoints returns the gateways that joined ch.
func (m *membership) endpoints(ch amt.Channel) []netip.AddrPort {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []netip.AddrPort
	for gw := range m.members[ch] {
		out = append(out, gw)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// Members returns the gateways (their tunnel endpoints: address and UDP
// port) that have joined ch, in address order.
func (r *Relay) Members(ch amt.Channel) []netip.AddrPort { return r.table.endpoints(ch) }

// Channels returns the channels at least one gateway has joined.
func (r *Relay) Channels() []amt.Channel {
	r.table.mu.Lock()
	defer r.table.mu.Unlock()
	var out []amt.Channel
	for ch := range r.table.members {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b amt.Channel) int {
		if c := a.Group.Compare(b.Group); c != 0 {
			return c
		}
		return a.Source.Compare(b.Source)
	})
	return out
}

// Updates counts the Membership Updates accepted; Rejected those refused:
// malformed, or with a nonce or Response MAC that does not check.
func (r *Relay) Updates() int64  { return r.table.updates.Load() }
func (r *Relay) Rejected() int64 { return r.table.rejected.Load() }

// Send encapsulates a UDP datagram from ch.Source, port srcPort, to
// ch.Group, port dstPort, in a Multicast Data message (RFC 7450 §5.1.6)
// and sends it to every gateway that joined ch. It returns how many it
// was sent to.
func (r *Relay) Send(ch amt.Channel, srcPort, dstPort uint16, payload []byte) (int, error) {
	msg, err := amt.Data{Source: ch.Source, Group: ch.Group, SourcePort: srcPort, DestPort: dstPort, Payload: payload}.Append(nil)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, gw := range r.Members(ch) {
		if _, err := r.conn.WriteToUDPAddrPort(msg, gw); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// WriteTo sends msg, any bytes, from the relay's socket to gw: tests use
// it to send garbled or forged messages from the relay's own address.
func (r *Relay) WriteTo(msg []byte, gw netip.AddrPort) error {
	_, err := r.conn.WriteToUDPAddrPort(msg, gw)
	return err
}
