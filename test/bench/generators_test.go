package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/oschwald/geoip2-golang/v2"
)

// smallSizes is a world small enough for a unit test, with the full
// count of source prefixes (the 100,000-prefix file needs them).
var smallSizes = Sizes{Locations: 500, Networks4: 4000, Networks6: 1000, Clients4: 2000, Clients6: 500, Relays: 20, Prefixes: 100_000}

// TestDefaultSizesMeetIssue13: the full run's inputs are at least as
// large as issue 13 asks, and the world made from them has that many
// distinct client subnets.
func TestDefaultSizesMeetIssue13(t *testing.T) {
	sz := DefaultSizes
	if sz.Networks4+sz.Networks6 < 200_000 || sz.Networks4 == 0 || sz.Networks6 == 0 {
		t.Errorf("%d IPv4 and %d IPv6 networks: want at least 200,000, of both families", sz.Networks4, sz.Networks6)
	}
	if sz.Locations < 50_000 {
		t.Errorf("%d locations, want at least 50,000", sz.Locations)
	}
	if sz.Relays < 10_000 || sz.Prefixes < 100_000 {
		t.Errorf("%d relays and %d source prefixes, want 10,000 and 100,000", sz.Relays, sz.Prefixes)
	}
	w, err := NewWorld(sz, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := distinctPrefixes(w.Clients); n < 100_000 || n != len(w.Clients) {
		t.Errorf("%d distinct client subnets of %d, want at least 100,000, each once", n, len(w.Clients))
	}
	if len(w.Networks) != sz.Networks4+sz.Networks6 {
		t.Errorf("%d networks, want %d", len(w.Networks), sz.Networks4+sz.Networks6)
	}
	locs := map[int]bool{}
	for _, n := range w.Networks {
		locs[n.Loc] = true
	}
	if len(locs) != sz.Locations {
		t.Errorf("the networks use %d of %d locations", len(locs), sz.Locations)
	}
}

func distinctPrefixes(ps []netip.Prefix) int {
	seen := map[netip.Prefix]bool{}
	for _, p := range ps {
		seen[p] = true
	}
	return len(seen)
}

// TestQueryFiles: every message of every query file decodes with
// miekg/dns as one query with exactly one ECS option, the many-subnet
// files carry each client subnet once, and the names are those the
// scenario's servers answer.
func TestQueryFiles(t *testing.T) {
	w, err := NewWorld(smallSizes, 1)
	if err != nil {
		t.Fatal(err)
	}
	prefixZone := map[string]bool{}
	for _, p := range w.Prefixes {
		a := p.Addr().As4()
		zone, _ := dns.ReverseAddr(netip.AddrFrom4(a).String())
		prefixZone[zone[strings.IndexByte(zone, '.')+1:]] = true
	}
	for _, names := range []Names{SourceNames, SeedNames, Prefixes10, Prefixes100k} {
		for _, ecs := range []ECS{OneSubnet, ManySubnets} {
			q := QueryFile{names, ecs}
			t.Run(q.String(), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "q.bin")
				if err := w.WriteQueries(path, q, 1); err != nil {
					t.Fatal(err)
				}
				msgs := readQueryFile(t, path)
				if len(msgs) != len(w.Clients) {
					t.Fatalf("%d messages, want %d", len(msgs), len(w.Clients))
				}
				subnets := map[netip.Prefix]bool{}
				prefixesAsked := map[string]bool{}
				for i, m := range msgs {
					if len(m.Question) != 1 || m.Response || m.Opcode != dns.OpcodeQuery {
						t.Fatalf("message %d is not one query: %v", i, m)
					}
					ecsOpt := onlyECS(t, m)
					p := netip.PrefixFrom(mustAddr(t, ecsOpt.Address), int(ecsOpt.SourceNetmask))
					if p != p.Masked() || ecsOpt.SourceScope != 0 {
						t.Fatalf("message %d: ECS %v has bits past SOURCE or a SCOPE", i, ecsOpt)
					}
					subnets[p] = true
					if _, ok := w.ClientLoc[p]; !ok {
						t.Fatalf("message %d: ECS %s is not a client of the database", i, p)
					}
					qn, qt := m.Question[0].Name, m.Question[0].Qtype
					switch names {
					case SourceNames:
						wantName(t, qn, qt, ".100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
					case SeedNames:
						wantName(t, qn, qt, ".100.51.198.in-addr.arpa.", dns.TypeA)
						if !strings.HasPrefix(qn, "amt.") {
							t.Fatalf("%s: want amt.<reverse name>", qn)
						}
					default:
						zone := qn[strings.IndexByte(qn, '.')+1:]
						if !prefixZone[zone] || qt != dns.TypeAMTRELAY {
							t.Fatalf("%s %s: not an AMTRELAY query inside the source prefixes", qn, dns.TypeToString[qt])
						}
						prefixesAsked[zone] = true
					}
				}
				switch ecs {
				case OneSubnet:
					if len(subnets) != 1 {
						t.Errorf("%d subnets in a one-subnet file", len(subnets))
					}
				case ManySubnets:
					if len(subnets) != len(w.Clients) {
						t.Errorf("%d distinct subnets in %d messages, want each client once", len(subnets), len(msgs))
					}
				}
				// The 100,000 prefixes span 25,000 reverse zones; 2,500
				// random queries must land in many of them.
				if names == Prefixes100k && len(prefixesAsked) < 1000 {
					t.Errorf("the queries reach only %d zones of the 100,000 prefixes", len(prefixesAsked))
				}
			})
		}
	}
}

func readQueryFile(t *testing.T, path string) []*dns.Msg {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var msgs []*dns.Msg
	for {
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); errors.Is(err, io.EOF) {
			return msgs
		} else if err != nil {
			t.Fatalf("message %d: length: %v", len(msgs), err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("message %d: %v", len(msgs), err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf); err != nil {
			t.Fatalf("message %d does not decode: %v", len(msgs), err)
		}
		msgs = append(msgs, m)
	}
}

func onlyECS(t *testing.T, m *dns.Msg) *dns.EDNS0_SUBNET {
	t.Helper()
	o := m.IsEdns0()
	if o == nil || len(m.Extra) != 1 || len(o.Option) != 1 {
		t.Fatalf("want one OPT record with one option: %v", m)
	}
	e, ok := o.Option[0].(*dns.EDNS0_SUBNET)
	if !ok {
		t.Fatalf("the option is %T, want ECS", o.Option[0])
	}
	return e
}

func mustAddr(t *testing.T, ip []byte) netip.Addr {
	t.Helper()
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		t.Fatalf("bad ECS address %v", ip)
	}
	return a.Unmap()
}

func wantName(t *testing.T, name string, qtype uint16, suffix string, want uint16) {
	t.Helper()
	if !strings.HasSuffix(name, suffix) || qtype != want {
		t.Fatalf("%s %s: want %s under %s", name, dns.TypeToString[qtype], dns.TypeToString[want], suffix)
	}
}

// TestCityDatabase: geoip2-golang reads the database, places every
// client subnet at its world location, and places the peers' relays.
func TestCityDatabase(t *testing.T) {
	w, err := NewWorld(smallSizes, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := w.WriteCityDB(path); err != nil {
		t.Fatal(err)
	}
	db, err := geoip2.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if md := db.Metadata(); md.DatabaseType != "GeoIP2-City" || md.IPVersion != 6 {
		t.Errorf("metadata %q IPv%d, want a GeoIP2-City database with IPv4 and IPv6", md.DatabaseType, md.IPVersion)
	}
	v6 := 0
	for _, c := range w.Clients {
		want := w.Locations[w.ClientLoc[c]]
		checkLocated(t, db, c.Addr(), want)
		if c.Addr().Is6() {
			v6++
		}
	}
	if v6 == 0 || v6 == len(w.Clients) {
		t.Errorf("%d of %d clients are IPv6: want both families", v6, len(w.Clients))
	}
	for _, r := range w.Relays[:peerRelays] {
		checkLocated(t, db, r.Addr, r.At)
	}
}

func checkLocated(t *testing.T, db *geoip2.Reader, a netip.Addr, want Point) {
	t.Helper()
	city, err := db.City(a)
	if err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	lat, lon := city.Location.Latitude, city.Location.Longitude
	if lat == nil || lon == nil || *lat != want.Lat || *lon != want.Lon {
		t.Fatalf("%s: located at %v,%v, want %v", a, lat, lon, want)
	}
	if !city.Traits.Network.Contains(a) {
		t.Fatalf("%s: the record's network %s does not hold it", a, city.Traits.Network)
	}
}
