package amtrelay

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amtrelay/amtrelay/amtrelayrr"

	"github.com/miekg/dns"
)

// defaultZonefileReload is how often a zonefile is checked for a new SOA
// serial, as the file plugin's default.
const defaultZonefileReload = time.Minute

// zonefile serves AMTRELAY records read from a standard zone file, at
// exactly their owner names, as static answers. It is the way to serve
// AMTRELAY records kept in BIND zone files: miekg/dns's zone parser reads
// the D-bit right, and the records go out packed by amtrelayrr, where the
// file plugin would send D=1 records broken (see Bugs). The file holds the
// zone's SOA (its serial decides reloads, as in the file plugin), NS
// records at the apex, and AMTRELAY records; any other type is refused at
// load, with file and line.
type zonefile struct {
	path     string
	origin   string // "" to take the file's $ORIGIN
	interval time.Duration
	current  atomic.Pointer[staticZone]
}

// staticZone is one load of a zonefile.
type staticZone struct {
	serial  uint32
	modTime time.Time
	// records maps each owner name to its relays, in file order.
	records map[string][]staticRelay
	// above holds every name above an owner, down from the zone apex:
	// empty non-terminals, which exist (NODATA, never NXDOMAIN).
	above map[string]bool
}

// staticRelay is one AMTRELAY record of a zonefile, packed, with its TTL.
type staticRelay struct {
	relay *amtrelayrr.Packed
	ttl   uint32
}

// lookup returns the relays at qname, and whether qname exists in the
// file (as an owner or an empty non-terminal).
func (z *zonefile) lookup(qname string) ([]staticRelay, bool) {
	if z == nil {
		return nil, false
	}
	s := z.current.Load()
	if s == nil {
		return nil, false
	}
	if rrs, ok := s.records[qname]; ok {
		return rrs, true
	}
	return nil, s.above[qname]
}

// load reads the file. within reports whether a name is in one of the
// plugin's zones.
func (z *zonefile) load(within func(string) bool) (*staticZone, error) {
	text, err := os.ReadFile(z.path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(z.path)
	if err != nil {
		return nil, err
	}
	s := &staticZone{modTime: fi.ModTime(), records: map[string][]staticRelay{}, above: map[string]bool{}}
	zp := dns.NewZoneParser(strings.NewReader(string(text)), z.origin, z.path)
	apex, soas := "", 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		switch h.Rrtype {
		case dns.TypeSOA:
			soas++
			apex, s.serial = name, rr.(*dns.SOA).Serial
		case dns.TypeNS:
		case dns.TypeAMTRELAY:
			if !within(name) {
				return nil, fmt.Errorf("%s: %s is in no zone this plugin serves: serve its zone too, or move the record", where(z.path, text, h), name)
			}
			r, err := amtrelayrr.FromRR(rr)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where(z.path, text, h), err)
			}
			p, err := r.PackOnce()
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where(z.path, text, h), err)
			}
			s.records[name] = append(s.records[name], staticRelay{relay: p, ttl: h.Ttl})
		default:
			return nil, fmt.Errorf("%s: a %s record; a zonefile holds only AMTRELAY records, with the zone's SOA and NS: serve the rest with the file plugin", where(z.path, text, h), dns.TypeToString[h.Rrtype])
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err // miekg/dns's message names the file and line
	}
	if soas != 1 {
		return nil, fmt.Errorf("%s: want one SOA record (its serial decides reloads), have %d", z.path, soas)
	}
	for owner := range s.records {
		if !dns.IsSubDomain(apex, owner) {
			return nil, fmt.Errorf("%s: %s is outside the zone %s of its SOA", z.path, owner, apex)
		}
		for n := owner; n != apex; {
			off, end := dns.NextLabel(n, 0)
			if end {
				break
			}
			n = n[off:]
			s.above[n] = true
		}
	}
	return s, nil
}

// where names the file and the line of rr, found by its owner's first
// label and its type on one line; the file alone when it cannot tell.
func where(path string, text []byte, h *dns.RR_Header) string {
	label := strings.SplitN(h.Name, ".", 2)[0]
	typ := regexp.MustCompile(`(?i)(^|\s)` + regexp.QuoteMeta(dns.TypeToString[h.Rrtype]) + `(\s|$)`)
	for i, line := range strings.Split(string(text), "\n") {
		code, _, _ := strings.Cut(line, ";")
		if typ.MatchString(code) && strings.Contains(strings.ToLower(code), strings.ToLower(label)) {
			return fmt.Sprintf("%s:%d", path, i+1)
		}
	}
	return path
}

// check loads the file again when it changed and its SOA serial grew, as
// the file plugin does; a file that does not load, or whose serial did not
// grow, is logged and the records in use stay.
func (z *zonefile) check(within func(string) bool) {
	cur := z.current.Load()
	if fi, err := os.Stat(z.path); err == nil && cur != nil && fi.ModTime().Equal(cur.modTime) {
		return
	}
	s, err := z.load(within)
	switch {
	case err != nil:
		log.Errorf("zonefile %s: %v; still serving serial %d", z.path, err, cur.serial)
	case s.serial <= cur.serial:
		log.Warningf("zonefile %s changed, but its SOA serial %d is not above %d: not reloaded", z.path, s.serial, cur.serial)
		s.serial, s.records, s.above = cur.serial, cur.records, cur.above
		z.current.Store(s) // remember the file's time, so that it is not read again
	default:
		log.Infof("zonefile %s: serial %d loaded (%d names)", z.path, s.serial, len(s.records))
		z.current.Store(s)
	}
}

// zonefileWorker checks a zonefile every interval.
type zonefileWorker struct {
	z      *zonefile
	within func(string) bool
}

func (w zonefileWorker) run(ctx context.Context) {
	every(ctx, w.z.interval, func() { w.z.check(w.within) })
}

func (w zonefileWorker) ready() bool { return true }
