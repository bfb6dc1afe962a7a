package amtrelay

import (
	"strings"
	"testing"

	"github.com/coredns/caddy"
)

func TestSetupErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		corefile string
		// want holds substrings of the error, including "Testfile:LINE".
		want []string
	}{
		{"unknown property", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nbogus 1\n}", []string{":4 ", "unknown property 'bogus'"}},
		{"unknown relay property", "amtrelay {\nrelay r 192.0.2.1 {\nbogus x\n}\nsource 198.51.100.0/24\n}", []string{":3 ", "unknown property 'bogus' in relay 'r'"}},
		{"bad weight", "amtrelay {\nrelay r 192.0.2.1 {\nweight x\n}\nsource 198.51.100.0/24\n}", []string{":3 ", "weight 'x' must be a finite number"}},
		{"zero capacity", "amtrelay {\nrelay r 192.0.2.1 {\ncapacity 0\n}\nsource 198.51.100.0/24\n}", []string{":3 ", "capacity '0'"}},
		{"bad location", "amtrelay {\nrelay r 192.0.2.1 {\nlocation 95 0\n}\nsource 198.51.100.0/24\n}", []string{":3 ", "location '95 0'"}},
		{"location arity", "amtrelay {\nrelay r 192.0.2.1 {\nlocation 5\n}\nsource 198.51.100.0/24\n}", []string{":3 ", "LATITUDE LONGITUDE"}},
		{"spill-over marks", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\npolicy spill-over 0.9 0.7\n}", []string{":4 ", "0 <= LOW < HIGH <= 1"}},
		{"spill-over spread", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\npolicy spill-over 0.5 0.7 0\n}", []string{":4 ", "SPREAD '0'"}},
		{"policy args", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\npolicy closest 3\n}", []string{":4 ", "takes no arguments"}},
		{"all-down", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nall-down maybe\n}", []string{":4 ", "fail-open, no-relay or servfail"}},
		{"geoip reload", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\ngeoip /x {\nreload 1ns\n}\n}", []string{":5 ", "at least 10ms"}},
		{"geoip property", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\ngeoip /x {\nfoo\n}\n}", []string{":5 ", "unknown property 'foo' in geoip"}},
		{"unknown source property", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 {\nbogus\n}\n}", []string{":4 ", "unknown property 'bogus' in source"}},
		{"malformed prefix", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/33 r\n}", []string{":3 ", "malformed prefix '198.51.100.0/33'"}},
		{"prefix as address", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.7 r\n}", []string{":3 ", "198.51.100.7/32"}},
		{"host bits", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.1/24 r\n}", []string{":3 ", "did you mean '198.51.100.0/24'"}},
		{"type mismatch v4", "amtrelay {\nrelay r 10 0 2 192.0.2.1\nsource 198.51.100.0/24 r\n}", []string{":2 ", "relay 'r'", "type 2 needs an IPv6 address"}},
		{"type mismatch v6", "amtrelay {\nrelay r 10 0 1 2001:db8::1\nsource 198.51.100.0/24 r\n}", []string{":2 ", "type 1 needs an IPv4 address"}},
		{"type mismatch name", "amtrelay {\nrelay r 10 0 3 192.0.2.1\nsource 198.51.100.0/24 r\n}", []string{":2 ", "type 3 needs a domain name"}},
		{"type 0 relay", "amtrelay {\nrelay r 0 0 0 .\nsource 198.51.100.0/24 r\n}", []string{":2 ", "source PREFIX none"}},
		{"unknown type", "amtrelay {\nrelay r 0 0 9 x.\nsource 198.51.100.0/24 r\n}", []string{":2 ", "unknown relay type"}},
		{"precedence over 255", "amtrelay {\nrelay r 256 0 1 192.0.2.1\nsource 198.51.100.0/24 r\n}", []string{":2 ", "precedence '256' must be a number from 0 to 255"}},
		{"block precedence over 255", "amtrelay {\nrelay r 192.0.2.1 {\nprecedence 300\n}\nsource 198.51.100.0/24 r\n}", []string{":3 ", "precedence '300'"}},
		{"precedence twice", "amtrelay {\nrelay r 1 0 1 192.0.2.1 {\nprecedence 3\n}\nsource 198.51.100.0/24 r\n}", []string{":3 ", "already given"}},
		{"bad D-bit", "amtrelay {\nrelay r 1 2 1 192.0.2.1\nsource 198.51.100.0/24 r\n}", []string{":2 ", "D-bit '2' must be 0 or 1"}},
		{"duplicate relay name", "amtrelay {\nrelay r 192.0.2.1\nrelay r 192.0.2.2\nsource 198.51.100.0/24 r\n}", []string{":3 ", "duplicate relay name 'r' (first declared on line 2)"}},
		{"duplicate relay value", "amtrelay {\nrelay r 192.0.2.1\nrelay s 192.0.2.1\nsource 198.51.100.0/24 r\n}", []string{":3 ", "same relay as 'r'"}},
		{"relay named like address", "amtrelay {\nrelay 192.0.2.1 192.0.2.1\nsource 198.51.100.0/24\n}", []string{":2 ", "is an address"}},
		{"relay arity", "amtrelay {\nrelay r 1 0 192.0.2.1\nsource 198.51.100.0/24\n}", []string{":2 ", "have 4 arguments"}},
		{"unknown relay in source", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 q\n}", []string{":3 ", "unknown relay 'q'"}},
		{"relay listed twice", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 r r\n}", []string{":3 ", "listed twice"}},
		{"none and relays", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 r none\n}", []string{":3 ", "choose one"}},
		{"source without prefix", "amtrelay {\nrelay r 192.0.2.1\nsource r\n}", []string{":3 ", "at least one prefix"}},
		{"duplicate prefix", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nsource 198.51.100.0/24 none\n}", []string{":4 ", "configured twice"}},
		{"no relays at all", "amtrelay {\nsource 198.51.100.0/24\n}", []string{":2 ", "source has no relays"}},
		{"no source", "amtrelay {\nrelay r 192.0.2.1\n}", []string{":1 ", "no source configured"}},
		{"prefix no zone covers", "amtrelay 100.51.198.in-addr.arpa {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nsource 203.0.113.0/24\n}", []string{":4 ", "prefix 203.0.113.0/24 is in no zone", "113.0.203.in-addr.arpa."}},
		{"wider prefix than zone", "amtrelay 100.51.198.in-addr.arpa {\nrelay r 192.0.2.1\nsource 198.51.0.0/16\n}", []string{":3 ", "prefix 198.51.0.0/16 is in no zone"}},
		{"zone not reverse", "amtrelay example.org {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\n}", []string{":1 ", "zone 'example.org.' is not a reverse zone"}},
		{"bad ttl", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nttl 0\n}", []string{":4 ", "ttl '0'"}},
		{"bad answer", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nanswer 256\n}", []string{":4 ", "answer '256'"}},
		{"unknown policy", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\npolicy fastest\n}", []string{":4 ", "unknown policy 'fastest'"}},
		{"bad ns", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\nns a..b\n}", []string{":4 ", "ns 'a..b'"}},
		{"weights all zero", "amtrelay {\nrelay r 192.0.2.1 {\nweight 0\n}\nsource 198.51.100.0/24\npolicy weighted\n}", []string{":5 ", "every relay of this source has weight 0"}},
		{"two blocks", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\n}\namtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\n}", []string{":5 ", "only be used once"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(caddy.NewTestController("dns", tc.corefile))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.corefile)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSetupZones(t *testing.T) {
	for _, tc := range []struct {
		corefile string
		keys     []string
		zones    string
	}{
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 203.0.113.128/25 2001:db8:100::/48\n}", nil,
			"0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. 100.51.198.in-addr.arpa. 113.0.203.in-addr.arpa."},
		// A zone inside another derived zone is left out.
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.0.0/16 198.51.100.0/24\n}", []string{"."}, "51.198.in-addr.arpa."},
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\n}", []string{"198.in-addr.arpa.:1053"}, "198.in-addr.arpa."},
		{"amtrelay 51.198.in-addr.arpa {\nrelay r 192.0.2.1\nsource 198.51.100.0/24\n}", []string{"."}, "51.198.in-addr.arpa."},
		// A /25 server block key expands to one zone per address.
		{"amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.128/31\n}", []string{"128.100.51.198.in-addr.arpa.", "129.100.51.198.in-addr.arpa."},
			"128.100.51.198.in-addr.arpa. 129.100.51.198.in-addr.arpa."},
	} {
		c := caddy.NewTestController("dns", tc.corefile)
		c.ServerBlockKeys = tc.keys
		a, err := parse(c)
		if err != nil {
			t.Errorf("%s: %v", tc.corefile, err)
			continue
		}
		if got := strings.Join(a.Zones, " "); got != tc.zones {
			t.Errorf("%s: zones %q, want %q", tc.corefile, got, tc.zones)
		}
	}
}

func TestSetupRelayForms(t *testing.T) {
	a := newTestHandler(t, `amtrelay {
		relay short 192.0.2.1
		relay shortd 2001:db8::1 {
			precedence 7
			discovery-optional
		}
		relay named relays.Example.NET
		relay full 9 1 3 other.example.net.
		source 198.51.100.0/24
	}`)
	g, _ := a.sources.lookup(mustAddr("198.51.100.1"))
	var got []string
	for _, r := range g.relays {
		got = append(got, r.record.String())
	}
	want := "0 0 1 192.0.2.1|7 1 2 2001:db8::1|0 0 3 relays.example.net.|9 1 3 other.example.net."
	if strings.Join(got, "|") != want {
		t.Errorf("relays %q, want %q", strings.Join(got, "|"), want)
	}
}
