package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// errNoAddresses means a name has neither AAAA nor A records.
var errNoAddresses = errors.New("no AAAA or A records")

// resolveName resolves a relay name (AMTRELAY type 3, SRV target, seed
// name) to addresses, RFC 8305 §3 style: the AAAA query goes out first and
// the A query right after it, both at once. When one of them returns
// addresses, the other gets ResolutionDelay more to answer (counted from
// when it left, should the rate limit have held it back); an answer that
// fails or is empty ends no wait. At most DefaultMaxAddrs
// addresses per family are kept. The error is set only when there are no
// addresses.
func (s *session) resolveName(ctx context.Context, name string) ([]netip.Addr, error) {
	type reply struct {
		qtype uint16
		addrs []netip.Addr
		err   error
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replies := make(chan reply, 2)
	// sent[qtype] closes when that query has passed the rate limit (or
	// ended). The A query waits for the AAAA one to leave, so a rate limit
	// cannot reorder them, and the Resolution Delay counts from when the
	// lagging query left, so local pacing does not eat into it.
	sent := map[uint16]chan struct{}{dns.TypeAAAA: make(chan struct{}), dns.TypeA: make(chan struct{})}
	start := func(qtype uint16) {
		var once sync.Once
		markSent := func() { once.Do(func() { close(sent[qtype]) }) }
		go func() {
			defer markSent()
			addrs, err := s.lookupAddrs(context.WithValue(ctx, sentHook{}, markSent), name, qtype)
			replies <- reply{qtype, addrs, err}
		}()
	}
	start(dns.TypeAAAA)
	<-sent[dns.TypeAAAA]
	start(dns.TypeA)

	var v6, v4 []netip.Addr
	var errs []error
	var otherSent <-chan struct{}
	var delay <-chan time.Time
	pending := 2
wait:
	for pending > 0 {
		select {
		case rep := <-replies:
			pending--
			if rep.err != nil {
				errs = append(errs, rep.err)
			}
			other := uint16(dns.TypeA)
			if rep.qtype == dns.TypeAAAA {
				v6 = rep.addrs
			} else {
				v4, other = rep.addrs, dns.TypeAAAA
			}
			if len(rep.addrs) > 0 && delay == nil && otherSent == nil && pending > 0 {
				otherSent = sent[other]
			}
		case <-otherSent:
			otherSent = nil
			t := time.NewTimer(s.r.resolutionDelay())
			defer t.Stop()
			delay = t.C
		case <-delay:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	cancel()
	for range pending {
		<-replies // the late query ends on cancel; don't leave it running
	}
	addrs := append(v6, v4...)
	if len(addrs) > 0 {
		return addrs, nil
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: %w", strings.TrimSuffix(name, "."), errNoAddresses)
}

// lookupAddrs returns the usable unicast addresses of one family at name.
func (s *session) lookupAddrs(ctx context.Context, name string, qtype uint16) ([]netip.Addr, error) {
	ans, err := s.lookup(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	return addrsOf(ans.RRs, qtype), nil
}

// addrsOf extracts the A or AAAA addresses of rrs, dropping those no relay
// can have, at most DefaultMaxAddrs.
func addrsOf(rrs []dns.RR, qtype uint16) []netip.Addr {
	var out []netip.Addr
	for _, rr := range rrs {
		var a netip.Addr
		switch v := rr.(type) {
		case *dns.A:
			if qtype != dns.TypeA {
				continue
			}
			a, _ = netip.AddrFromSlice(v.A.To4())
		case *dns.AAAA:
			if qtype != dns.TypeAAAA {
				continue
			}
			a, _ = netip.AddrFromSlice(v.AAAA.To16())
			if a.Is4In6() {
				continue
			}
		default:
			continue
		}
		if usableRelayAddr(a) && !slices.Contains(out, a) {
			out = append(out, a)
			if len(out) == DefaultMaxAddrs {
				break
			}
		}
	}
	return out
}

// usableRelayAddr rejects addresses no relay can be reached at.
func usableRelayAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// sentHook is the context key of a func that session.exchange calls when a
// query has passed the rate limit and is about to be sent.
type sentHook struct{}
