// Package amttest provides an AMT relay for tests and demos: it answers
// Relay Discovery with a Relay Advertisement and Request with a Membership
// Query (RFC 7450 §5.1), with a programmable delay, drop, L flag and decoy
// replies; it accepts Membership Updates whose Response MAC and nonce
// check, keeps which gateway joined which (S,G) channel, and forwards data
// to them: what a test hands to Send, or, with ForwardKernel, what the
// host's kernel delivers for the channels joined. Sender sends multicast
// pinned to one interface. It is to AMT what net/http/httptest is to HTTP.
package amttest

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

// Behaviour says how a Relay answers. The zero value answers at once.
type Behaviour struct {
	// Delay holds each reply back this long.
	Delay time.Duration
	// Drop makes the relay send no genuine reply (decoys are still sent).
	Drop bool
	// Limit sets the L flag in Membership Queries: the relay is full.
	Limit bool
	// Advertise, if valid, is the relay address Relay Advertisements
	// give instead of the relay's own, as a broker or an anycast address
	// does (RFC 7450 §4.2.1.1). The gateway then sends its Requests there.
	Advertise netip.Addr
	// Decoys, if set, returns datagrams to send before the genuine reply,
	// such as a copy with a wrong nonce, garbage or an oversized message.
	Decoys func(reply []byte) [][]byte
	// DecoyFrom, if set, sends the decoys from this socket instead, so they
	// come from the wrong address or port.
	DecoyFrom net.PacketConn
	// OnReceive, if set, is called with each datagram as it arrives,
	// before any reply; benchmarks use it to time a Discovery.
	OnReceive func(msg []byte)
	// QQIC is the Querier's Query Interval Code of the General Queries
	// (RFC 3376 §4.1.7): the refresh interval the relay asks of gateways.
	// Default 125 (seconds).
	QQIC uint8
}

// Relay is a running responder. Its methods are safe for concurrent use.
type Relay struct {
	conn      *net.UDPConn
	behaviour atomic.Pointer[Behaviour]
	wg        sync.WaitGroup

	discoveries atomic.Int64
	requests    atomic.Int64

	table membership

	fwdMu     sync.Mutex
	fwdClosed bool
	forwards  map[amt.Channel]net.PacketConn
}

// Start listens on the UDP address addr, such as "127.0.0.2:0" or
// "127.0.0.3:2268", and answers until Close.
func Start(addr string) (*Relay, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	r := &Relay{conn: conn}
	r.behaviour.Store(&Behaviour{})
	r.table.init()
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

// Addr is the address and port the relay listens on.
func (r *Relay) Addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Set changes how the relay answers from now on.
func (r *Relay) Set(b Behaviour) { r.behaviour.Store(&b) }

// Discoveries counts the Relay Discovery messages received.
func (r *Relay) Discoveries() int64 { return r.discoveries.Load() }

// Requests counts the Request messages received.
func (r *Relay) Requests() int64 { return r.requests.Load() }

// Close stops the relay and its forwarding, and waits for replies in
// flight.
func (r *Relay) Close() error {
	r.closeForwards()
	err := r.conn.Close()
	r.wg.Wait()
	return err
}

func (r *Relay) serve() {
	defer r.wg.Done()
	buf := make([]byte, amt.MaxMessage)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if f := r.behaviour.Load().OnReceive; f != nil {
			f(buf[:n])
		}
		reply := r.answer(buf[:n], from)
		if reply == nil {
			continue
		}
		b := r.behaviour.Load()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.send(b, reply, from)
		}()
	}
}

// answer builds the genuine reply to msg from a gateway, or nil.
func (r *Relay) answer(msg []byte, from netip.AddrPort) []byte {
	if nonce, err := amt.ParseDiscovery(msg); err == nil {
		r.discoveries.Add(1)
		if nonce == 0 {
			return nil // RFC 7450 §5.3.3.2 relays drop nonce 0
		}
		relay := r.Addr().Addr()
		if a := r.behaviour.Load().Advertise; a.IsValid() {
			relay = a
		}
		return amt.Advertisement{Nonce: nonce, Relay: relay}.Append(nil)
	}
	if req, err := amt.ParseRequest(msg); err == nil {
		r.requests.Add(1)
		b := r.behaviour.Load()
		qqic := b.QQIC
		if qqic == 0 {
			qqic = 125
		}
		return amt.MembershipQuery{
			Limit:        b.Limit,
			ResponseMAC:  r.table.issue(from, req.Nonce),
			Nonce:        req.Nonce,
			GeneralQuery: amt.GeneralQuery(req.MLD, qqic),
		}.Append(nil)
	}
	if len(msg) > 0 && amt.Type(msg[0]&0x0f) == amt.TypeMembershipUpdate {
		r.table.update(msg, from)
	}
	return nil
}

func (r *Relay) send(b *Behaviour, reply []byte, to netip.AddrPort) {
	if b.Delay > 0 {
		time.Sleep(b.Delay)
	}
	dst := net.UDPAddrFromAddrPort(to)
	if b.Decoys != nil {
		var via net.PacketConn = r.conn
		if b.DecoyFrom != nil {
			via = b.DecoyFrom
		}
		for _, d := range b.Decoys(append([]byte(nil), reply...)) {
			_, _ = via.WriteTo(d, dst)
		}
	}
	if !b.Drop {
		_, _ = r.conn.WriteTo(reply, dst)
	}
}

// StartSamePort starts one relay on each of ips (such as "127.0.0.2",
// "127.0.0.3") on one UDP port free on all of them, as a Corefile's
// health probes expect, and returns them and the port.
func StartSamePort(ips ...string) ([]*Relay, uint16, error) {
	var lastErr error
	for range 50 {
		first, err := Start(net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return nil, 0, err
		}
		port := first.Addr().Port()
		relays := []*Relay{first}
		for _, ip := range ips[1:] {
			r, err := Start(net.JoinHostPort(ip, strconv.Itoa(int(port))))
			if err != nil {
				lastErr = err
				break
			}
			relays = append(relays, r)
		}
		if len(relays) == len(ips) {
			return relays, port, nil
		}
		for _, r := range relays {
			r.Close()
		}
	}
	return nil, 0, lastErr
}
