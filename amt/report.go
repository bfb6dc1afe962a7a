package amt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ErrReport: the IP datagram in a Membership Update is not a well-formed
// IGMPv3 Membership Report (RFC 3376 §4.2) in IPv4 or MLDv2 Multicast
// Listener Report (RFC 3810 §5.2) in IPv6.
var ErrReport = errors.New("amt: bad encapsulated membership report")

// RecordType is the type of a group record in an IGMPv3 report (RFC 3376
// §4.2.12) or of a multicast address record in an MLDv2 report (RFC 3810
// §5.2.12); the two protocols use the same values.
type RecordType uint8

// Record types of RFC 3376 §4.2.12 and RFC 3810 §5.2.12.
const (
	ModeIsInclude       RecordType = 1 // current state: MODE_IS_INCLUDE
	ModeIsExclude       RecordType = 2 // current state: MODE_IS_EXCLUDE
	ChangeToIncludeMode RecordType = 3 // filter mode change: CHANGE_TO_INCLUDE_MODE
	ChangeToExcludeMode RecordType = 4 // filter mode change: CHANGE_TO_EXCLUDE_MODE
	AllowNewSources     RecordType = 5 // source list change: ALLOW_NEW_SOURCES
	BlockOldSources     RecordType = 6 // source list change: BLOCK_OLD_SOURCES
)

// Wire constants of IGMPv3 and MLDv2 reports and their IP headers.
const (
	maxKnownRecordType     = BlockOldSources
	igmpv3ReportType       = 0x22 // RFC 3376 §4
	mldv2ReportType        = 143  // RFC 3810 §5.2.1
	reportHeaderLen        = 8    // type, reserved, checksum, reserved, record count
	igmpRecordFixedLen     = 8    // type, aux data len, source count, group
	mldRecordFixedLen      = 20   // type, aux data len, source count, address
	ipv4RouterAlertLen     = 4    // RFC 2113
	hopByHopRouterAlertLen = 8    // next header, length, Router Alert (RFC 2711), PadN
	igmpTOS                = 0xc0 // Internetwork Control (RFC 3376 §4)
	maxIPLength            = 0xffff
	ipv4OptionEnd          = 0
	ipv4OptionNOP          = 1
	ipv4OptionRouterAlert  = 0x94 // copied flag, class 0, number 20 (RFC 2113 §2.1)
	ipv6OptionPad1         = 0
	ipv6OptionRouterAlert  = 5 // RFC 2711 §2.1
)

// Destinations of version 3 reports: all IGMPv3-capable multicast routers
// (RFC 3376 §4.2.14) and all MLDv2-capable routers (RFC 3810 §5.2.14).
var (
	igmpv3Routers = [4]byte{224, 0, 0, 22}
	mldv2Routers  = [16]byte{0xff, 0x02, 15: 0x16}
)

// GroupRecord is one group record of an IGMPv3 Membership Report (RFC 3376
// §4.2.4) or multicast address record of an MLDv2 report (RFC 3810 §5.2.4).
// Reports carry no auxiliary data (RFC 3376 §4.2.10, RFC 3810 §5.2.10).
type GroupRecord struct {
	Type    RecordType
	Group   netip.Addr
	Sources []netip.Addr
}

// Report is the IP datagram that a Membership Update encapsulates: an
// IGMPv3 Membership Report in IPv4 or, with MLD, an MLDv2 Multicast
// Listener Report in IPv6 (RFC 7450 §5.1.5.6).
//
// The datagram carries what RFC 3376 §4 and RFC 3810 §5 call for: IPv4 with
// TTL 1, Type of Service 0xc0 and the Router Alert option (RFC 2113) to
// 224.0.0.22; IPv6 with hop limit 1 and a Hop-by-Hop Options header with
// the Router Alert option (RFC 2711) to ff02::16.
type Report struct {
	// MLD selects MLDv2 in IPv6; false is IGMPv3 in IPv4. It must match the
	// P flag of the Request that obtained the Membership Query.
	MLD bool
	// Source is the source address of the encapsulated datagram. The zero
	// value stands for the unspecified address (0.0.0.0 or ::), which
	// RFC 7450 §5.2.1 lets a gateway use, since its pseudo-interface has no
	// address that is link-local to the relay; a relay must accept a report
	// whatever its source (§5.3.3.4). It is not the gateway's tunnel
	// address: that is the source of the outer UDP datagram (§5.1.5),
	// which NAT may rewrite anyway.
	Source  netip.Addr
	Records []GroupRecord
}

// Join returns the state-change report that joins channel (s, g) from no
// state: INCLUDE() to INCLUDE(s) sends ALLOW(s) (RFC 3376 §5.1, RFC 3810
// §6.1, RFC 4604 §2.2). To answer a General Query, a gateway reports its
// current state instead: one ModeIsInclude record per group with all its
// sources (RFC 3376 §5.2, RFC 3810 §6.2).
func Join(s, g netip.Addr) Report {
	return sourceReport(AllowNewSources, s, g)
}

// Leave returns the state-change report that leaves channel (s, g), the
// last source of g: INCLUDE(s) to INCLUDE() sends BLOCK(s) (RFC 3376 §5.1,
// RFC 3810 §6.1).
func Leave(s, g netip.Addr) Report {
	return sourceReport(BlockOldSources, s, g)
}

func sourceReport(t RecordType, s, g netip.Addr) Report {
	return Report{
		MLD:     g.Is6(),
		Records: []GroupRecord{{Type: t, Group: g, Sources: []netip.Addr{s}}},
	}
}

// Append appends the encapsulated IP datagram to b. It fails if an address
// is of the wrong family, a group is not multicast, a record type is not
// one of RFC 3376 §4.2.12, or the datagram would exceed 65535 octets.
func (r Report) Append(b []byte) ([]byte, error) {
	n := reportHeaderLen
	for i, rec := range r.Records {
		if rec.Type < ModeIsInclude || rec.Type > maxKnownRecordType {
			return b, fmt.Errorf("%w: record %d: type %d", ErrReport, i, rec.Type)
		}
		if !isGroup(rec.Group, r.MLD) {
			return b, fmt.Errorf("%w: record %d: %v is not an %s multicast group", ErrReport, i, rec.Group, family(r.MLD))
		}
		for _, s := range rec.Sources {
			if !isFamily(s, r.MLD) {
				return b, fmt.Errorf("%w: record %d: source %v is not %s", ErrReport, i, s, family(r.MLD))
			}
		}
		if len(rec.Sources) > 0xffff {
			return b, fmt.Errorf("%w: record %d: %d sources", ErrReport, i, len(rec.Sources))
		}
		if r.MLD {
			n += mldRecordFixedLen + 16*len(rec.Sources)
		} else {
			n += igmpRecordFixedLen + 4*len(rec.Sources)
		}
		if n > maxIPLength {
			return b, fmt.Errorf("%w: over %d octets", ErrReport, maxIPLength)
		}
	}
	if len(r.Records) > 0xffff {
		return b, fmt.Errorf("%w: %d records", ErrReport, len(r.Records))
	}
	src := r.Source
	if !src.IsValid() {
		src = unspecified(r.MLD)
	}
	if !isFamily(src, r.MLD) {
		return b, fmt.Errorf("%w: source %v is not %s", ErrReport, src, family(r.MLD))
	}
	if r.MLD {
		return r.appendMLD(b, src, n)
	}
	return r.appendIGMP(b, src, n)
}

func (r Report) appendIGMP(b []byte, src netip.Addr, n int) ([]byte, error) {
	const ihl = ipv4HeaderMinLen + ipv4RouterAlertLen
	if ihl+n > maxIPLength {
		return b, fmt.Errorf("%w: over %d octets", ErrReport, maxIPLength)
	}
	start := len(b)
	b = append(b, 4<<4|ihl/4, igmpTOS)
	b = binary.BigEndian.AppendUint16(b, uint16(ihl+n))
	b = append(b, 0, 0, 0, 0, 1, protoIGMP, 0, 0) // identification, flags and offset, TTL 1, protocol, checksum
	s4 := src.Unmap().As4()
	b = append(b, s4[:]...)
	b = append(b, igmpv3Routers[:]...)
	b = append(b, ipv4OptionRouterAlert, ipv4RouterAlertLen, 0, 0)
	binary.BigEndian.PutUint16(b[start+10:], checksum(sum(0, b[start:start+ihl])))

	igmp := len(b)
	b = append(b, igmpv3ReportType, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Records)))
	for _, rec := range r.Records {
		b = append(b, byte(rec.Type), 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(rec.Sources)))
		g := rec.Group.Unmap().As4()
		b = append(b, g[:]...)
		for _, s := range rec.Sources {
			a := s.Unmap().As4()
			b = append(b, a[:]...)
		}
	}
	binary.BigEndian.PutUint16(b[igmp+2:], checksum(sum(0, b[igmp:])))
	return b, nil
}

func (r Report) appendMLD(b []byte, src netip.Addr, n int) ([]byte, error) {
	payload := hopByHopRouterAlertLen + n
	if payload > maxIPLength {
		return b, fmt.Errorf("%w: over %d octets", ErrReport, maxIPLength)
	}
	b = append(b, 6<<4, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(payload))
	b = append(b, protoHopByHop, 1) // next header, hop limit 1
	s16 := src.As16()
	b = append(b, s16[:]...)
	b = append(b, mldv2Routers[:]...)
	// Hop-by-Hop Options header of 8 octets: Router Alert with value 0,
	// "Datagram contains a Multicast Listener Discovery message" (RFC 2711
	// §2.1), then a PadN option with no data octets (RFC 8200 §4.2).
	b = append(b, protoICMPv6, 0, ipv6OptionRouterAlert, 2, 0, 0, 1, 0)

	mld := len(b)
	b = append(b, mldv2ReportType, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Records)))
	for _, rec := range r.Records {
		b = append(b, byte(rec.Type), 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(rec.Sources)))
		g := rec.Group.As16()
		b = append(b, g[:]...)
		for _, s := range rec.Sources {
			a := s.As16()
			b = append(b, a[:]...)
		}
	}
	s := pseudoSum(s16[:], mldv2Routers[:], protoICMPv6, n)
	binary.BigEndian.PutUint16(b[mld+2:], checksum(sum(s, b[mld:])))
	return b, nil
}

// ParseReport decodes the IP datagram at the start of b: an IGMPv3 report
// in IPv4 or an MLDv2 report in IPv6, chosen by the IP version. Octets after
// the datagram are ignored, as RFC 7450 §5.3.3.4 asks of a relay. It checks
// what a router checks (RFC 3376 §4.2.13, §9.1; RFC 3810 §5.2.13): the IP
// header and IGMP/ICMPv6 checksums, TTL or hop limit 1, the Router Alert
// option, the report destination address, and that every record fits. Any
// source address is accepted (RFC 7450 §5.3.3.4). Records of unknown types
// are skipped (RFC 3376 §4.2.12) and auxiliary data ignored (§4.2.10).
// IGMPv2 and MLDv1 messages, which RFC 7450 §5.1.5.6 also allows, are
// refused.
func ParseReport(b []byte) (Report, error) {
	if len(b) == 0 {
		return Report{}, fmt.Errorf("%w: empty", ErrReport)
	}
	switch b[0] >> 4 {
	case 4:
		return parseIGMPv3Report(b)
	case 6:
		return parseMLDv2Report(b)
	}
	return Report{}, fmt.Errorf("%w: IP version %d", ErrReport, b[0]>>4)
}

func parseIGMPv3Report(b []byte) (Report, error) {
	if len(b) < ipv4HeaderMinLen {
		return Report{}, fmt.Errorf("%w: %d octets, shorter than an IPv4 header", ErrReport, len(b))
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case ihl < ipv4HeaderMinLen || total < ihl || total > len(b):
		return Report{}, fmt.Errorf("%w: IPv4 header lengths %d/%d do not fit %d octets", ErrReport, ihl, total, len(b))
	case checksum(sum(0, b[:ihl])) != 0:
		return Report{}, fmt.Errorf("%w: IPv4 %w", ErrReport, ErrChecksum)
	case binary.BigEndian.Uint16(b[6:])&0x3fff != 0:
		return Report{}, fmt.Errorf("%w: %w", ErrReport, ErrFragment)
	case b[9] != protoIGMP:
		return Report{}, fmt.Errorf("%w: IPv4 protocol %d, want IGMP", ErrReport, b[9])
	case b[8] != 1:
		return Report{}, fmt.Errorf("%w: TTL %d, want 1 (RFC 3376 §4)", ErrReport, b[8])
	case [4]byte(b[16:20]) != igmpv3Routers:
		return Report{}, fmt.Errorf("%w: destination %v, want 224.0.0.22 (RFC 3376 §4.2.14)", ErrReport, netip.AddrFrom4([4]byte(b[16:20])))
	case !hasIPv4RouterAlert(b[ipv4HeaderMinLen:ihl]):
		return Report{}, fmt.Errorf("%w: no Router Alert option (RFC 3376 §9.1)", ErrReport)
	}
	igmp := b[ihl:total]
	if len(igmp) < reportHeaderLen || igmp[0] != igmpv3ReportType {
		return Report{}, fmt.Errorf("%w: not an IGMPv3 Membership Report", ErrReport)
	}
	if checksum(sum(0, igmp)) != 0 {
		return Report{}, fmt.Errorf("%w: IGMP %w", ErrReport, ErrChecksum)
	}
	r := Report{Source: netip.AddrFrom4([4]byte(b[12:16]))}
	return r, r.parseRecords(igmp, 4, igmpRecordFixedLen)
}

// hasIPv4RouterAlert reports whether IPv4 options opts hold a Router Alert
// option (RFC 2113 §2.1).
func hasIPv4RouterAlert(opts []byte) bool {
	for len(opts) > 0 {
		switch opts[0] {
		case ipv4OptionEnd:
			return false
		case ipv4OptionNOP:
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return false
		}
		if opts[0] == ipv4OptionRouterAlert && opts[1] == ipv4RouterAlertLen {
			return true
		}
		opts = opts[opts[1]:]
	}
	return false
}

func parseMLDv2Report(b []byte) (Report, error) {
	if len(b) < ipv6HeaderLen {
		return Report{}, fmt.Errorf("%w: %d octets, shorter than an IPv6 header", ErrReport, len(b))
	}
	payload := int(binary.BigEndian.Uint16(b[4:]))
	switch {
	case ipv6HeaderLen+payload > len(b):
		return Report{}, fmt.Errorf("%w: IPv6 payload length %d does not fit %d octets", ErrReport, payload, len(b))
	case b[7] != 1:
		return Report{}, fmt.Errorf("%w: hop limit %d, want 1 (RFC 3810 §5)", ErrReport, b[7])
	case [16]byte(b[24:40]) != mldv2Routers:
		return Report{}, fmt.Errorf("%w: destination %v, want ff02::16 (RFC 3810 §5.2.14)", ErrReport, netip.AddrFrom16([16]byte(b[24:40])))
	case b[6] != protoHopByHop:
		return Report{}, fmt.Errorf("%w: no Hop-by-Hop Options header (RFC 3810 §5)", ErrReport)
	}
	rest := b[ipv6HeaderLen : ipv6HeaderLen+payload]
	if len(rest) < 8 || (int(rest[1])+1)*8 > len(rest) {
		return Report{}, fmt.Errorf("%w: Hop-by-Hop Options header runs past the datagram", ErrReport)
	}
	hbh := rest[:(int(rest[1])+1)*8]
	if hbh[0] != protoICMPv6 {
		return Report{}, fmt.Errorf("%w: next header %d after Hop-by-Hop, want ICMPv6", ErrReport, hbh[0])
	}
	if !hasIPv6RouterAlert(hbh[2:]) {
		return Report{}, fmt.Errorf("%w: no Router Alert option (RFC 3810 §5)", ErrReport)
	}
	mld := rest[len(hbh):]
	if len(mld) < reportHeaderLen || mld[0] != mldv2ReportType {
		return Report{}, fmt.Errorf("%w: not an MLDv2 Multicast Listener Report", ErrReport)
	}
	if checksum(sum(pseudoSum(b[8:24], b[24:40], protoICMPv6, len(mld)), mld)) != 0 {
		return Report{}, fmt.Errorf("%w: ICMPv6 %w", ErrReport, ErrChecksum)
	}
	r := Report{MLD: true, Source: netip.AddrFrom16([16]byte(b[8:24]))}
	return r, r.parseRecords(mld, 16, mldRecordFixedLen)
}

// hasIPv6RouterAlert reports whether the options of a Hop-by-Hop Options
// header hold a Router Alert option (RFC 2711 §2.1).
func hasIPv6RouterAlert(opts []byte) bool {
	for len(opts) > 0 {
		if opts[0] == ipv6OptionPad1 {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
			return false
		}
		if opts[0] == ipv6OptionRouterAlert && opts[1] == 2 {
			return true
		}
		opts = opts[2+int(opts[1]):]
	}
	return false
}

// parseRecords decodes the records of an IGMPv3 or MLDv2 report msg into
// r.Records; addresses are alen octets long.
func (r *Report) parseRecords(msg []byte, alen, fixed int) error {
	count := int(binary.BigEndian.Uint16(msg[6:]))
	rest := msg[reportHeaderLen:]
	// Records grow one by one: count is not to be trusted for an allocation.
	for i := range count {
		if len(rest) < fixed {
			return fmt.Errorf("%w: record %d of %d runs past the report", ErrReport, i, count)
		}
		t := RecordType(rest[0])
		aux := int(rest[1]) * 4
		nsrc := int(binary.BigEndian.Uint16(rest[2:]))
		n := fixed + nsrc*alen + aux
		if n > len(rest) {
			return fmt.Errorf("%w: record %d of %d runs past the report", ErrReport, i, count)
		}
		rec, srcs := rest[:n], rest[fixed:n-aux]
		rest = rest[n:]
		if t < ModeIsInclude || t > maxKnownRecordType {
			continue // RFC 3376 §4.2.12, RFC 3810 §5.2.12
		}
		g := addrAt(rec[4:], alen)
		if !isGroup(g, r.MLD) {
			return fmt.Errorf("%w: record %d: %v is not a multicast group", ErrReport, i, g)
		}
		gr := GroupRecord{Type: t, Group: g}
		if nsrc > 0 {
			gr.Sources = make([]netip.Addr, nsrc) // bounded by the octets present
			for j := range gr.Sources {
				gr.Sources[j] = addrAt(srcs[j*alen:], alen)
			}
		}
		r.Records = append(r.Records, gr)
	}
	return nil
}

func addrAt(b []byte, alen int) netip.Addr {
	if alen == 4 {
		return netip.AddrFrom4([4]byte(b))
	}
	return netip.AddrFrom16([16]byte(b))
}

func unspecified(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// isFamily reports whether a is an address of the family: IPv4 (or
// IPv4-mapped IPv6, written as IPv4), or IPv6 of 16 octets.
func isFamily(a netip.Addr, v6 bool) bool {
	if v6 {
		return a.Is6()
	}
	return a.Unmap().Is4()
}

// isGroup reports whether g is a multicast address of the family:
// 224.0.0.0/4 (RFC 5771) or ff00::/8 (RFC 4291 §2.7).
func isGroup(g netip.Addr, v6 bool) bool {
	if !isFamily(g, v6) {
		return false
	}
	if v6 {
		return g.As16()[0] == 0xff
	}
	return g.Unmap().IsMulticast()
}
