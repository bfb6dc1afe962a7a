package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// staticRelays are the three relays of the static scenarios and of the
// file plugin's zone: RFC 8777 §4.3.2's example relays, D=0 (stock
// CoreDNS's file plugin sends D=1 records broken).
var staticRelays = []string{
	"v4 10 0 1 203.0.113.15",
	"v6 10 0 2 2001:db8::15",
	"name 128 0 3 amtrelays.example.com.",
}

// Corefile settings that are not the scenario's.
type coreOpts struct {
	Port, ReadyPort int
	DB              string // City database
	Zone            string // the file plugin's zone file
	FlapURL         string // the flapping relay's metrics page
	TTL             int    // 30, or 31 after a reload
}

// corefile is the Corefile of a CoreDNS scenario.
func (w *World) corefile(s Scenario, o coreOpts) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".:%d {\n    bind 127.0.0.1\n    ready 127.0.0.1:%d\n", o.Port, o.ReadyPort)
	if s.Hosts > 0 {
		b.WriteString("    hosts {\n")
		for i := range s.Hosts {
			fmt.Fprintf(&b, "        10.%d.%d.%d %s\n", i>>16&255, i>>8&255, i&255, hostsName(i))
		}
		fmt.Fprintf(&b, "        ttl %d\n        fallthrough\n    }\n", o.TTL)
	}
	switch {
	case s.Plugin == "whoami":
		b.WriteString("    whoami\n")
	case s.Plugin == "file":
		fmt.Fprintf(&b, "    file %s %s\n", o.Zone, seedZone)
	default:
		b.WriteString("    amtrelay {\n")
		w.amtrelayBody(&b, s, o)
		b.WriteString("    }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// amtrelayBody writes the amtrelay block's directives.
func (w *World) amtrelayBody(b *strings.Builder, s Scenario, o coreOpts) {
	if s.Relays == 0 {
		for _, r := range staticRelays {
			fmt.Fprintf(b, "        relay %s\n", r)
		}
	}
	// Static loads, so that least-load and spill-over have something to
	// rank by; the same for every policy.
	loads := rand.New(rand.NewPCG(7, 7))
	for i, r := range w.Relays[:s.Relays] {
		fmt.Fprintf(b, "        relay %s %s {\n            location %.4f %.4f\n            capacity 100\n", r.Name, r.Addr, r.At.Lat, r.At.Lon)
		load := loads.IntN(100)
		if s.Flap && i == 0 {
			fmt.Fprintf(b, "            metrics %s\n", o.FlapURL)
		} else {
			fmt.Fprintf(b, "            load %d\n", load)
		}
		b.WriteString("        }\n")
	}
	if s.Prefixes == 0 {
		fmt.Fprintf(b, "        source %s\n", sourcePrefix)
	}
	for i := 0; i < s.Prefixes; i += 50 {
		b.WriteString("        source")
		for _, p := range w.Prefixes[i:min(i+50, s.Prefixes)] {
			fmt.Fprintf(b, " %s", p)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "        policy %s\n", s.Policy)
	if s.Policy != "static" {
		fmt.Fprintf(b, "        answer 3\n        geoip %s\n", o.DB)
	}
	if s.Flap {
		b.WriteString("        load {\n            scrape amt_relay_load {\n                interval 1s\n            }\n        }\n")
	}
	fmt.Fprintf(b, "        ttl %d\n        ns amt-dns.example.net.\n", o.TTL)
}

// fileZone is the file plugin's zone: the static relays at each of the
// 256 source names.
func fileZone() string {
	var b strings.Builder
	b.WriteString("$TTL 30\n@ SOA amt-dns.example.net. hostmaster.amt-dns.example.net. 1 7200 1800 1209600 30\n@ NS amt-dns.example.net.\n")
	for i := range 256 {
		for _, r := range staticRelays {
			_, rdata, _ := strings.Cut(r, " ")
			fmt.Fprintf(&b, "%d AMTRELAY %s\n", i, rdata)
		}
	}
	return b.String()
}

// hostsName is the name of a hosts block's entry i.
func hostsName(i int) string { return fmt.Sprintf("h%d.hosts.example.", i) }
