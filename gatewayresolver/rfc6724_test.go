package gatewayresolver

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// pickSource is RFC 6724 §5 source address selection over a host's
// addresses, for the §10.2 examples: Rules 1 (same address), 2 (appropriate
// scope), 3 (avoid deprecated), 4 (prefer home), 6 (matching label) and 8
// (longest matching prefix), within dst's family.
func pickSource(host []Source) SourceFunc {
	return func(dst netip.Addr) (Source, error) {
		var best *Source
		for i := range host {
			sb := &host[i]
			if sb.Addr.Unmap().Is4() != dst.Unmap().Is4() {
				continue
			}
			if best == nil || sourceBetter(sb, best, dst) {
				best = sb
			}
		}
		if best == nil {
			return Source{}, errors.New("no source of that family")
		}
		return *best, nil
	}
}

// sourceBetter reports whether a beats b as the source for d (RFC 6724 §5).
func sourceBetter(a, b *Source, d netip.Addr) bool {
	if a.Addr == d || b.Addr == d {
		return a.Addr == d
	}
	if sa, sb, sd := scope(a.Addr), scope(b.Addr), scope(d); sa != sb {
		if sa < sb {
			return sa >= sd
		}
		return sb < sd
	}
	if a.Deprecated != b.Deprecated {
		return !a.Deprecated
	}
	if a.Home != b.Home {
		return a.Home
	}
	if la, lb := policy(a.Addr).label == policy(d).label, policy(b.Addr).label == policy(d).label; la != lb {
		return la
	}
	return commonPrefixLen(*a, d) > commonPrefixLen(*b, d)
}

func srcs(addrs ...string) []Source {
	var out []Source
	for _, a := range addrs {
		out = append(out, Source{Addr: netip.MustParseAddr(a)})
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestRFC6724Examples runs the destination address selection examples of
// RFC 6724 §10.2, in both input orders, and checks the deciding rule. The
// "home address" and "deprecated" rows inject Rule 3 and 4 data through
// Source, which the kernel lookup cannot supply.
func TestRFC6724Examples(t *testing.T) {
	careOf := func(s string) Source { return Source{Addr: netip.MustParseAddr(s), CareOf: true} }
	for _, tc := range []struct {
		name    string
		host    []Source
		want    []string // the sorted destinations
		wantSrc []string // the source of each, as §10.2 states
		rule    int
	}{
		{"prefer matching scope (v6 global)", srcs("2001:db8:1::2", "fe80::1", "169.254.13.78"),
			[]string{"2001:db8:1::1", "198.51.100.121"}, []string{"2001:db8:1::2", "169.254.13.78"}, 2},
		{"prefer matching scope (v4 global)", srcs("fe80::1", "198.51.100.117"),
			[]string{"198.51.100.121", "2001:db8:1::1"}, []string{"198.51.100.117", "fe80::1"}, 2},
		{"prefer higher precedence (v6 over v4)", srcs("2001:db8:1::2", "fe80::1", "10.1.2.4"),
			[]string{"2001:db8:1::1", "10.1.2.3"}, []string{"2001:db8:1::2", "10.1.2.4"}, 6},
		{"prefer smaller scope", srcs("2001:db8:1::2", "fe80::2"),
			[]string{"fe80::1", "2001:db8:1::1"}, []string{"fe80::2", "2001:db8:1::2"}, 8},
		{"prefer home address", []Source{careOf("2001:db8:1::2"), {Addr: netip.MustParseAddr("2001:db8:3::1"), Home: true}, careOf("fe80::2")},
			[]string{"2001:db8:1::1", "fe80::1"}, []string{"2001:db8:3::1", "fe80::2"}, 4},
		{"avoid deprecated", []Source{{Addr: netip.MustParseAddr("2001:db8:1::2")}, {Addr: netip.MustParseAddr("fe80::2"), Deprecated: true}},
			[]string{"2001:db8:1::1", "fe80::1"}, []string{"2001:db8:1::2", "fe80::2"}, 3},
		{"longest matching prefix", srcs("2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"),
			[]string{"2001:db8:1::1", "2001:db8:3ffe::1"}, []string{"2001:db8:1::2", "2001:db8:3f44::2"}, 9},
		{"prefer matching label", srcs("2002:c633:6401::2", "fe80::2"),
			[]string{"2002:c633:6401::1", "2001:db8:1::1"}, []string{"2002:c633:6401::2", "2002:c633:6401::2"}, 5},
		{"prefer higher precedence (2001:db8 over 6to4)", srcs("2002:c633:6401::2", "2001:db8:1::2", "fe80::2"),
			[]string{"2001:db8:1::1", "2002:c633:6401::1"}, []string{"2001:db8:1::2", "2002:c633:6401::2"}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sf := pickSource(tc.host)
			want := addrs(tc.want...)
			for i, d := range want {
				if s, _ := sf(d); s.Addr.String() != tc.wantSrc[i] {
					t.Fatalf("test helper picked source %v for %v, RFC 6724 §10.2 says %s", s.Addr, d, tc.wantSrc[i])
				}
			}
			for _, in := range [][]netip.Addr{want, {want[1], want[0]}} {
				if got := sortDestinations(in, sf); !slices.Equal(got, want) {
					t.Errorf("sortDestinations(%v) = %v, want %v", in, got, want)
				}
			}
			a, _ := sf(want[0])
			b, _ := sf(want[1])
			c, rule := compare6724(destination{want[0], a, true}, destination{want[1], b, true})
			if c != -1 || rule.rule != tc.rule {
				t.Errorf("compare6724 = %d by rule %d (%s), want -1 by rule %d", c, rule.rule, rule.why, tc.rule)
			}
		})
	}
}

func TestRFC6724Rule1And7(t *testing.T) {
	u := destination{netip.MustParseAddr("2001:db8::1"), Source{Addr: netip.MustParseAddr("2001:db8::2")}, true}
	v := destination{netip.MustParseAddr("203.0.113.1"), Source{}, false}
	if c, r := compare6724(v, u); c != 1 || r.rule != 1 {
		t.Errorf("unusable first: %d rule %d", c, r.rule)
	}
	enc := u
	enc.addr = netip.MustParseAddr("2001:db8::3")
	enc.src.Encapsulated = true
	if c, r := compare6724(enc, u); c != 1 || r.rule != 7 {
		t.Errorf("encapsulated: %d rule %d", c, r.rule)
	}
	if c, r := compare6724(u, u); c != 0 || r.rule != 0 {
		t.Errorf("equal: %d rule %d", c, r.rule)
	}
}

func TestPolicyTable(t *testing.T) {
	for _, tc := range []struct {
		addr              string
		precedence, label int
	}{
		{"::1", 50, 0},
		{"2001:db8::1", 40, 1},
		{"2001:3::1", 40, 1}, // the AMT anycast address is not Teredo
		{"192.52.193.1", 35, 4},
		{"::ffff:10.0.0.1", 35, 4},
		{"2002:c633:6401::1", 30, 2},
		{"2001::1", 5, 5},
		{"fd00::1", 3, 13},
		{"::10.0.0.1", 1, 3},
		{"fec0::1", 1, 11},
		{"3ffe::1", 1, 12},
	} {
		p := policy(netip.MustParseAddr(tc.addr))
		if p.precedence != tc.precedence || p.label != tc.label {
			t.Errorf("%s: precedence %d label %d, want %d %d", tc.addr, p.precedence, p.label, tc.precedence, tc.label)
		}
	}
}

func TestScope(t *testing.T) {
	for addr, want := range map[string]int{
		"127.0.0.1": 2, "169.254.1.1": 2, "10.0.0.1": 14, "198.51.100.1": 14,
		"fe80::1": 2, "::1": 2, "fec0::1": 5, "ff05::1": 5, "ff0e::1": 14, "ff02::1": 2,
		"2001:db8::1": 14, "fd00::1": 14, "::ffff:127.0.0.1": 2,
	} {
		if got := scope(netip.MustParseAddr(addr)); got != want {
			t.Errorf("scope(%s) = %d, want %d", addr, got, want)
		}
	}
}

func TestCommonPrefixLen(t *testing.T) {
	for _, tc := range []struct {
		src  string
		plen int
		dst  string
		want int
	}{
		{"2001:db8:1::2", 0, "2001:db8:1::1", 64}, // capped at 64
		{"2001:db8:1::2", 128, "2001:db8:1::1", 126},
		{"2001:db8:3f44::2", 0, "2001:db8:3ffe::1", 40},
		{"10.1.2.3", 0, "10.1.2.4", 29},
		{"10.1.2.3", 24, "10.1.2.4", 24},
		{"10.1.2.3", 0, "2001:db8::1", 0}, // other family
		{"203.0.113.1", 0, "203.0.113.1", 32},
	} {
		got := commonPrefixLen(Source{Addr: netip.MustParseAddr(tc.src), PrefixLen: tc.plen}, netip.MustParseAddr(tc.dst))
		if got != tc.want {
			t.Errorf("CommonPrefixLen(%s/%d, %s) = %d, want %d", tc.src, tc.plen, tc.dst, got, tc.want)
		}
	}
}
