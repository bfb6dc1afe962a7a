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

// addrBatch is addresses of one family, as one answer gave them.
type addrBatch struct {
	addrs []netip.Addr
	ttl   uint32
}

// resolve resolves a relay name (AMTRELAY type 3, SRV target, seed name) to
// addresses, RFC 8305 §3 style, and hands each batch to found as soon as
// it may be used: the AAAA query goes out first and the A query right
// after it. AAAA addresses are passed on when they arrive. A addresses
// that arrive first are held back until the AAAA answer comes or for the
// Resolution Delay (50 ms), whichever is first; A addresses that arrive
// later are passed on at once. Every answer counts, however late (RFC 8305
// §3: late answers join the list; RFC 8777 §4.2.4: all A and AAAA
// records). At most 16 addresses per family are kept. resolve returns when
// both queries have ended, with an error only when there was no address.
func (t *tierRun) resolve(ctx context.Context, name string, found func(addrBatch)) error {
	type reply struct {
		qtype uint16
		addrBatch
		err error
	}
	replies := make(chan reply, 2)
	// The A query waits for the AAAA one to leave, so that a rate limit
	// cannot reorder them.
	aaaaSent := make(chan struct{})
	start := func(qtype uint16, sent func()) {
		go func() {
			b, err := t.lookupAddrs(ctx, name, qtype, sent)
			replies <- reply{qtype, b, err}
		}()
	}
	var once sync.Once
	start(dns.TypeAAAA, func() { once.Do(func() { close(aaaaSent) }) })
	<-aaaaSent
	start(dns.TypeA, nil)

	var errs []error
	n := 0
	pass := func(b addrBatch) {
		if len(b.addrs) > 0 {
			n += len(b.addrs)
			found(b)
		}
	}
	var heldA *addrBatch
	var delay <-chan time.Time
	aaaaDone := false
	for pending := 2; pending > 0; {
		select {
		case rep := <-replies:
			pending--
			if rep.err != nil {
				errs = append(errs, rep.err)
			}
			switch {
			case rep.qtype == dns.TypeAAAA:
				aaaaDone = true
				pass(rep.addrBatch)
				if heldA != nil {
					pass(*heldA)
					heldA = nil
				}
			case aaaaDone || len(rep.addrs) == 0:
				pass(rep.addrBatch)
			default:
				// RFC 8305 §3: a positive A answer first waits a little
				// for the AAAA one.
				heldA = &rep.addrBatch
				timer := time.NewTimer(t.r.resolutionDelayTime())
				defer timer.Stop()
				delay = timer.C
			}
		case <-delay:
			delay = nil
			if heldA != nil {
				pass(*heldA)
				heldA = nil
			}
		}
	}
	if n > 0 {
		return nil
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", strings.TrimSuffix(name, "."), errNoAddresses)
}

// lookupAddrs returns the usable unicast addresses of one family at name.
// sent, if not nil, is called when the query has left.
func (t *tierRun) lookupAddrs(ctx context.Context, name string, qtype uint16, sent func()) (addrBatch, error) {
	if sent != nil {
		defer sent() // also when the query never left
		ctx = context.WithValue(ctx, sentHook{}, sent)
	}
	ans, err := t.lookup(ctx, name, qtype)
	if err != nil {
		return addrBatch{}, err
	}
	return addrBatch{addrsOf(ans.RRs, qtype), ans.TTL}, nil
}

// addrsOf extracts the A or AAAA addresses of rrs, dropping those no relay
// can have, at most 16.
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
			if len(out) == maxAddrs {
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
