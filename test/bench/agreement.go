package main

import (
	"fmt"
	"log"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// agreementClients is how many clients the peers are checked on.
const agreementClients = 500

// nearestMargin is how much farther the second-nearest relay must be,
// by both distances, for a client to be in the agreement set: clear of
// ties and of rounding.
const nearestMargin = 1.02

// Agreement is the outcome of the pre-timing check of gdnsd and PowerDNS
// against amtrelay.
type Agreement struct {
	Clients int            // clients asked
	Match   map[string]int // server -> answers equal to the expected relay
	Skipped int            // clients left out: the two distances disagree, or nearly tie
}

// checkAgreement starts amtrelay (seed-style A, 10 relays), gdnsd and
// PowerDNS, and asks each for amt.1.100.51.198.in-addr.arpa A with the ECS
// of clients whose nearest relay is the same by great-circle distance
// (amtrelay, gdnsd) and by PowerDNS's planar distance in degrees, clear of
// ties. Every server must answer the expected relay for every such client.
func (h *Harness) checkAgreement(scenarios []Scenario) (*Agreement, error) {
	w := h.In.World
	relays := w.Relays[:peerRelays]
	servers := map[string]*server{}
	defer func() {
		for _, sv := range servers {
			sv.close()
		}
	}()
	for _, s := range scenarios {
		sv, err := h.start(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		servers[s.Name] = sv
		if _, err := sv.p.waitReady(sv.addr(), sv.probe, true, sv.readyURL); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	a := &Agreement{Match: map[string]int{}}
	c := &dns.Client{Timeout: 2 * time.Second}
	var mismatches []string
	for _, client := range w.Clients {
		if a.Clients == agreementClients {
			break
		}
		at := w.Locations[w.ClientLoc[client]]
		want, ok := agreedNearest(at, relays)
		if !ok {
			a.Skipped++
			continue
		}
		a.Clients++
		q, err := queryMessage(nil, 1, "amt.1."+seedZone+".", dns.TypeA, client)
		if err != nil {
			return nil, err
		}
		for name, sv := range servers {
			m := new(dns.Msg)
			if err := m.Unpack(q); err != nil {
				return nil, err
			}
			got, err := firstA(c, sv.addr(), m)
			if err != nil {
				return nil, fmt.Errorf("%s, client %s: %w", name, client, err)
			}
			if got == want.Addr {
				a.Match[name]++
			} else if len(mismatches) < 10 {
				mismatches = append(mismatches, fmt.Sprintf("%s: client %s at %.4f,%.4f: answered %s, nearest is %s (%s)", name, client, at.Lat, at.Lon, got, want.Addr, want.Name))
			}
		}
	}
	log.Printf("agreement on %d clients (%d skipped as ambiguous): %v", a.Clients, a.Skipped, a.Match)
	if len(mismatches) > 0 {
		return a, fmt.Errorf("the servers disagree before timing:\n  %s", strings.Join(mismatches, "\n  "))
	}
	if a.Clients == 0 {
		return a, fmt.Errorf("no client is clear of ties: nothing was checked")
	}
	return a, nil
}

// firstA asks q and returns the first A record's address.
func firstA(c *dns.Client, addr string, q *dns.Msg) (netip.Addr, error) {
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ip, _ := netip.AddrFromSlice(a.A.To4())
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no A record in the answer (rcode %s)", dns.RcodeToString[r.Rcode])
}

// agreedNearest is the relay nearest to at by great-circle distance when
// PowerDNS's planar distance picks the same one, both with the next
// relay at least nearestMargin farther.
func agreedNearest(at Point, relays []Relay) (Relay, bool) {
	gc := rank(at, relays, greatCircleKm)
	pl := rank(at, relays, pdnsPlanar)
	if gc[0] != pl[0] || len(relays) < 2 {
		return Relay{}, len(relays) == 1
	}
	if greatCircleKm(at, relays[gc[1]].At) < nearestMargin*greatCircleKm(at, relays[gc[0]].At) ||
		pdnsPlanar(at, relays[pl[1]].At) < nearestMargin*nearestMargin*pdnsPlanar(at, relays[pl[0]].At) {
		return Relay{}, false
	}
	return relays[gc[0]], true
}

// rank returns the indexes of the two nearest relays by dist.
func rank(at Point, relays []Relay, dist func(a, b Point) float64) [2]int {
	best := [2]int{-1, -1}
	d := [2]float64{math.Inf(1), math.Inf(1)}
	for i, r := range relays {
		v := dist(at, r.At)
		switch {
		case v < d[0]:
			best[1], d[1] = best[0], d[0]
			best[0], d[0] = i, v
		case v < d[1]:
			best[1], d[1] = i, v
		}
	}
	return best
}

// greatCircleKm is the haversine distance on a sphere of the Earth's mean
// radius.
func greatCircleKm(a, b Point) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (b.Lat - a.Lat) * rad
	dlon := (b.Lon - a.Lon) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// pdnsPlanar is the squared distance PowerDNS 4.7's pickclosest() ranks
// by (lua-record.cc): degrees of latitude and longitude as a plane, the
// longitude difference folded only when it exceeds +180.
func pdnsPlanar(client, relay Point) float64 {
	latdiff := client.Lat - relay.Lat
	londiff := client.Lon - relay.Lon
	if londiff > 180 {
		londiff = 360 - londiff
	}
	return latdiff*latdiff + londiff*londiff
}
