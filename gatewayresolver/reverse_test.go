package gatewayresolver

import (
	"errors"
	"net/netip"
	"testing"
)

func TestReverseName(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.12":         "12.100.51.198.in-addr.arpa.", // RFC 8777 §2.2
		"::ffff:198.51.100.12":  "12.100.51.198.in-addr.arpa.",
		"2001:db8::a":           "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", // RFC 8777 §2.2
		"2001:db8:c0fe::1:2345": "5.4.3.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.f.0.c.8.b.d.0.1.0.0.2.ip6.arpa.",
		"fe80::1%eth0":          "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa.",
	} {
		got, err := ReverseName(netip.MustParseAddr(in))
		if err != nil || got != want {
			t.Errorf("ReverseName(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []netip.Addr{{}, netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("232.1.1.1"), netip.MustParseAddr("ff3e::8000:1"), netip.MustParseAddr("255.255.255.255")} {
		if _, err := ReverseName(in); !errors.Is(err, ErrBadSource) {
			t.Errorf("ReverseName(%v) error = %v, want ErrBadSource", in, err)
		}
	}
}
