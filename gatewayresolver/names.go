package gatewayresolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// errNoAddresses means a name has neither AAAA nor A records.
var errNoAddresses = errors.New("no AAAA or A records")

// resolveName resolves a relay name (AMTRELAY type 3, SRV target, seed
// name) to addresses, RFC 8305 §3 style: the AAAA query goes out first and
// the A query right after it, both at once. When one of them returns
// addresses, the other gets ResolutionDelay more to answer; a query that
// fails or is empty is waited for no longer. At most DefaultMaxAddrs
// addresses per family are kept. The error is set only when there are no
// addresses.
func (s *session) resolveName(ctx context.Context, name string) ([]netip.Addr, error) {
	type reply struct {
		qtype uint16
		addrs []netip.Addr
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replies := make(chan reply, 2)
	for _, qtype := range []uint16{dns.TypeAAAA, dns.TypeA} {
		go func() {
			addrs, err := s.lookupAddrs(ctx, name, qtype)
			replies <- reply{qtype, addrs, err}
		}()
	}

	var v6, v4 []netip.Addr
	var errs []error
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
			if rep.qtype == dns.TypeAAAA {
				v6 = rep.addrs
			} else {
				v4 = rep.addrs
			}
			if len(rep.addrs) > 0 && delay == nil && pending > 0 {
				t := time.NewTimer(s.r.resolutionDelay())
				defer t.Stop()
				delay = t.C
			}
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
	if ctx.Err() != nil {
		return nil, ctx.Err()
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
