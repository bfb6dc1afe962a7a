package amtrelay

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// newTestHandler parses corefile (the inside of a server block) into a
// handler whose next plugin answers SERVFAIL with a marker, so tests see
// when a query was passed on.
func newTestHandler(t testing.TB, corefile string) *AMTRelay {
	t.Helper()
	c := caddy.NewTestController("dns", corefile)
	a, err := parse(c)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	a.Next = test.NextHandler(dns.RcodeServerFailure, errPassedOn)
	return a
}

var errPassedOn = &passedOn{}

type passedOn struct{}

func (*passedOn) Error() string { return "passed to the next plugin" }

// serve runs m through a and returns the reply written, the rcode returned
// and the error.
func serve(t testing.TB, a *AMTRelay, m *dns.Msg) (*dns.Msg, int, error) {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rcode, err := a.ServeDNS(context.Background(), rec, m)
	return rec.Msg, rcode, err
}

// relays decodes the AMTRELAY records of rrs to presentation form, which
// test.SortAndCheck cannot compare.
func relays(t *testing.T, rrs []dns.RR) []string {
	t.Helper()
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeAMTRELAY {
			continue
		}
		r, err := amtrelayrr.FromRR(rr)
		if err != nil {
			t.Fatalf("decoding %v: %v", rr, err)
		}
		out = append(out, r.String())
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func parseCorefile(corefile string) (*AMTRelay, error) {
	return parse(caddy.NewTestController("dns", corefile))
}
