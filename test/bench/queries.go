package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/miekg/dns"
)

// Names says which query names a query file asks for.
type Names int

const (
	// SourceNames: the reverse names of the 256 addresses of
	// 198.51.100.0/24, the one source prefix of most scenarios.
	SourceNames Names = iota
	// SeedNames: amt.<reverse name> of the same addresses, type A: the
	// seed documents' procedure, what gdnsd and PowerDNS answer.
	SeedNames
	// Prefixes10 and Prefixes100k: reverse names of random addresses
	// spread over the first 10 or 100,000 source prefixes.
	Prefixes10
	Prefixes100k
)

// sourcePrefix is the source prefix of every scenario but the
// many-prefix ones.
var sourcePrefix = netip.MustParsePrefix("198.51.100.0/24")

// ECS says which EDNS Client Subnet options a query file carries.
type ECS int

const (
	OneSubnet   ECS = iota // every query the same subnet
	ManySubnets            // every query another subnet, each once
)

// QueryFile is one dnsperf -B input: its names, its ECS and its path.
type QueryFile struct {
	Names Names
	ECS   ECS
}

func (q QueryFile) String() string {
	names := map[Names]string{SourceNames: "source", SeedNames: "seed-a", Prefixes10: "prefixes10", Prefixes100k: "prefixes100k"}[q.Names]
	ecs := map[ECS]string{OneSubnet: "one", ManySubnets: "many"}[q.ECS]
	return names + "-" + ecs
}

// WriteQueries writes q as dnsperf's -B input (RFC 1035 §4.2.2 TCP framing:
// each message preceded by its length in two octets), one query per
// message, each with one ECS option (RFC 7871 §6), len(w.Clients) messages.
func (w *World) WriteQueries(path string, q QueryFile, seed uint64) error {
	if q.Names == Prefixes100k && len(w.Prefixes) < 100_000 || q.Names == Prefixes10 && len(w.Prefixes) < 10 {
		return fmt.Errorf("query file %s: the world has only %d source prefixes", q, len(w.Prefixes))
	}
	rng := rand.New(rand.NewPCG(seed, uint64(q.Names)<<8|uint64(q.ECS)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	var buf []byte
	for i, client := range w.Clients {
		if q.ECS == OneSubnet {
			client = w.OneClient()
		}
		name, qtype := w.queryName(rng, q.Names)
		buf, err = queryMessage(buf[:0], uint16(i), name, qtype, client)
		if err != nil {
			return err
		}
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(buf)))
		bw.Write(l[:])
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// queryName draws one query name of the set names.
func (w *World) queryName(rng *rand.Rand, names Names) (string, uint16) {
	switch names {
	case SeedNames:
		return fmt.Sprintf("amt.%d.100.51.198.in-addr.arpa.", rng.IntN(256)), dns.TypeA
	case Prefixes10, Prefixes100k:
		n := 10
		if names == Prefixes100k {
			n = 100_000
		}
		p := w.Prefixes[rng.IntN(n)]
		a := p.Addr().As4()
		a[3] += byte(rng.IntN(64))
		name, _ := dns.ReverseAddr(netip.AddrFrom4(a).String())
		return name, dns.TypeAMTRELAY
	default:
		return fmt.Sprintf("%d.100.51.198.in-addr.arpa.", rng.IntN(256)), dns.TypeAMTRELAY
	}
}

// queryMessage packs one query for name and qtype with EDNS (RFC 6891)
// and an ECS option for client, appending to buf.
func queryMessage(buf []byte, id uint16, name string, qtype uint16, client netip.Prefix) ([]byte, error) {
	m := new(dns.Msg)
	m.Id = id
	m.RecursionDesired = false
	m.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(1232)
	o.Option = append(o.Option, ecsOption(client))
	m.Extra = append(m.Extra, o)
	return m.PackBuffer(buf)
}

// ecsOption is the ECS option for subnet, SCOPE 0 (RFC 7871 §6).
func ecsOption(subnet netip.Prefix) *dns.EDNS0_SUBNET {
	e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(subnet.Bits())}
	if subnet.Addr().Is4() {
		e.Family = 1
	} else {
		e.Family = 2
	}
	e.Address = subnet.Addr().AsSlice()
	return e
}
