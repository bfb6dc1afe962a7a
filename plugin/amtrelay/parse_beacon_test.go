package amtrelay

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
)

// TestParseBeacon: a beacon line and its block set the configuration,
// with the defaults filled in, the relay port from health.
func TestParseBeacon(t *testing.T) {
	a, err := parseCorefile(`amtrelay {
		relay r 192.0.2.1
		source 198.51.100.0/24 {
			beacon 198.51.100.7 232.1.1.1 5001
		}
		source 2001:db8:100::/48 198.51.101.0/24 {
			beacon 2001:db8:100::7 ff3e::8000:1 5002 {
				interval 30s
				timeout 500ms
				concurrency 2
				down 2
				up 3
				relay-port 4000
			}
		}
		source 203.0.113.0/24
		health 2300 {
			interval 1s
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	b := a.groups[0].beacon
	if b == nil || b.cfg.ch.Source != netip.MustParseAddr("198.51.100.7") || b.cfg.ch.Group != netip.MustParseAddr("232.1.1.1") || b.cfg.port != 5001 {
		t.Fatalf("first beacon: %+v", b)
	}
	if c := b.cfg; c.interval != time.Minute || c.timeout != 2*time.Second || c.concurrency != 4 || c.downAfter != 1 || c.upAfter != 1 || c.relayPort != 2300 {
		t.Errorf("defaults: %+v", c)
	}
	b6 := a.groups[1].beacon
	if c := b6.cfg; c.ch.Group != netip.MustParseAddr("ff3e::8000:1") || c.interval != 30*time.Second || c.timeout != 500*time.Millisecond ||
		c.concurrency != 2 || c.downAfter != 2 || c.upAfter != 3 || c.relayPort != 4000 {
		t.Errorf("second beacon: %+v", c)
	}
	if a.groups[2].beacon != nil {
		t.Error("a source without a beacon has one")
	}
	if _, ok := a.workers.list[len(a.workers.list)-1].(*beaconProber); !ok {
		t.Error("no beacon prober among the workers")
	}

	// Without health, the relays' AMT port is 2268.
	a, err = parseCorefile("amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 {\nbeacon 198.51.100.7 232.1.1.1 5001\n}\n}")
	if err != nil {
		t.Fatal(err)
	}
	if p := a.groups[0].beacon.cfg.relayPort; p != 2268 {
		t.Errorf("relay port without health: %d", p)
	}
}

// TestParseBeaconErrors: each mistake names the file and line and says
// what to write.
func TestParseBeaconErrors(t *testing.T) {
	src := func(block string) string {
		return "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 2001:db8:100::/48 {\n" + block + "\n}\n}"
	}
	for _, tc := range []struct {
		name, corefile string
		want           []string
	}{
		{"arity", src("beacon 198.51.100.7 232.1.1.1"), []string{"Testfile:4 ", "beacon wants SOURCE GROUP PORT", "have 2 argument(s)"}},
		{"source not an address", src("beacon s1 232.1.1.1 5001"), []string{":4 ", "beacon source 's1' must be a unicast IPv4 or IPv6 address"}},
		{"source multicast", src("beacon 232.1.1.2 232.1.1.1 5001"), []string{":4 ", "must be a unicast"}},
		{"source outside the prefixes", src("beacon 192.0.2.7 232.1.1.1 5001"), []string{":4 ", "beacon source 192.0.2.7 is in none of this source's prefixes (198.51.100.0/24 2001:db8:100::/48)", "source line of its prefix"}},
		{"group not multicast", src("beacon 198.51.100.7 198.51.100.8 5001"), []string{":4 ", "beacon group '198.51.100.8' must be an IPv4 multicast group", "such as 232.1.1.1"}},
		{"group of the other family", src("beacon 2001:db8:100::7 232.1.1.1 5001"), []string{":4 ", "must be an IPv6 multicast group, as its source 2001:db8:100::7 is IPv6", "ff3e::8000:1"}},
		{"port zero", src("beacon 198.51.100.7 232.1.1.1 0"), []string{":4 ", "beacon port '0' must be the beacon's UDP destination port"}},
		{"port too big", src("beacon 198.51.100.7 232.1.1.1 70000"), []string{":4 ", "beacon port '70000'"}},
		{"unknown property", src("beacon 198.51.100.7 232.1.1.1 5001 {\nrate 10\n}"), []string{":5 ", "unknown property 'rate' in beacon", "interval, timeout, concurrency, down, up or relay-port"}},
		{"short interval", src("beacon 198.51.100.7 232.1.1.1 5001 {\ninterval 1ms\n}"), []string{":5 ", "interval '1ms' must be a duration of at least 100ms"}},
		{"zero concurrency", src("beacon 198.51.100.7 232.1.1.1 5001 {\nconcurrency 0\n}"), []string{":5 ", "concurrency '0' must be a number from 1 to 100"}},
		{"bad relay port", src("beacon 198.51.100.7 232.1.1.1 5001 {\nrelay-port x\n}"), []string{":5 ", "relay-port 'x' must be the relays' AMT UDP port"}},
		{"timeout over interval", src("beacon 198.51.100.7 232.1.1.1 5001 {\ninterval 1s\ntimeout 2s\n}"), []string{"beacon timeout 2s is longer than its interval 1s"}},
		{"twice", src("beacon 198.51.100.7 232.1.1.1 5001\nbeacon 2001:db8:100::7 ff3e::1 5001"), []string{":5 ", "beacon is given twice in source (first on line 4)", "a source line of their own"}},
		{"none", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/24 none {\nbeacon 198.51.100.7 232.1.1.1 5001\n}\n}", []string{":4 ", "beacon in a source configured 'none'"}},
		{"same beacon on two lines", "amtrelay {\nrelay r 192.0.2.1\nsource 198.51.100.0/25 {\nbeacon 198.51.100.7 232.1.1.1 5001\n}\nsource 198.51.100.0/24 {\nbeacon 198.51.100.7 232.1.1.1 5002\n}\n}",
			[]string{":7 ", "beacon (198.51.100.7,232.1.1.1) is configured twice (first on line 4)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(caddy.NewTestController("dns", tc.corefile))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
