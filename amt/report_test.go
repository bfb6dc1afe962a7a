package amt

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// onesSum is the 16-bit one's-complement sum of b, written out plainly
// (RFC 1071 §4.1) to check the package's checksum code independently.
func onesSum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint32
	for i := 0; i < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// An IGMPv3 join of (192.0.2.1, 232.1.1.1), worked out by hand from RFC
// 3376 §4 and §4.2 and RFC 2113.
var igmpJoinVector = []byte{
	// AMT Membership Update (RFC 7450 §5.1.5)
	0x05, 0x00, // V=0, type 5; reserved
	0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, // Response MAC
	0x01, 0x02, 0x03, 0x04, // Request Nonce
	// IPv4 header (RFC 791), 24 octets with the option
	0x46, 0xc0, // version 4, IHL 6 words; ToS 0xc0 Internetwork Control
	0x00, 0x2c, // total length 44 = 24 + 20
	0x00, 0x00, 0x00, 0x00, // identification; flags, fragment offset
	0x01, 0x02, // TTL 1; protocol 2 (IGMP)
	0x43, 0xf6, // header checksum: ^(0x46c0+0x002c+0x0102+0xe000+0x0016+0x9404 = 0x1bc08 → 0xbc09)
	0x00, 0x00, 0x00, 0x00, // source 0.0.0.0 (RFC 7450 §5.2.1)
	0xe0, 0x00, 0x00, 0x16, // destination 224.0.0.22 (RFC 3376 §4.2.14)
	0x94, 0x04, 0x00, 0x00, // Router Alert option: type 148, length 4, value 0 (RFC 2113)
	// IGMPv3 Membership Report (RFC 3376 §4.2), 20 octets
	0x22, 0x00, // type 0x22; reserved
	0x2d, 0xf9, // checksum: ^(0x2200+0x0001+0x0500+0x0001+0xe801+0x0101+0xc000+0x0201 = 0x1d205 → 0xd206)
	0x00, 0x00, 0x00, 0x01, // reserved; number of group records 1
	0x05, 0x00, 0x00, 0x01, // ALLOW_NEW_SOURCES; aux data len 0; number of sources 1
	0xe8, 0x01, 0x01, 0x01, // multicast address 232.1.1.1
	0xc0, 0x00, 0x02, 0x01, // source address 192.0.2.1
}

// An MLDv2 leave of (2001:db8::1, ff3e::8000:1), worked out by hand from
// RFC 3810 §5 and §5.2, RFC 2711 and RFC 8200.
var mldLeaveVector = []byte{
	// AMT Membership Update (RFC 7450 §5.1.5)
	0x05, 0x00, // V=0, type 5; reserved
	0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, // Response MAC
	0x01, 0x02, 0x03, 0x04, // Request Nonce
	// IPv6 header (RFC 8200 §3), 40 octets
	0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
	0x00, 0x34, // payload length 52 = 8 Hop-by-Hop + 44 MLD
	0x00, 0x01, // next header 0 (Hop-by-Hop Options); hop limit 1
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // source :: (RFC 7450 §5.2.1)
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x16, // destination ff02::16 (RFC 3810 §5.2.14)
	// Hop-by-Hop Options header (RFC 8200 §4.3), 8 octets
	0x3a, 0x00, // next header 58 (ICMPv6); length 0 (8 octets)
	0x05, 0x02, 0x00, 0x00, // Router Alert: type 5, length 2, value 0 = MLD (RFC 2711)
	0x01, 0x00, // PadN with no data octets
	// MLDv2 Multicast Listener Report (RFC 3810 §5.2), 44 octets
	0x8f, 0x00, // type 143; reserved
	0xbe, 0x83, // checksum: pseudo-header ff02+0016+002c (length 44)+003a (58) = 0xff7e,
	// report 8f00+0001+0600+0001+ff3e+8000+0001+2001+0db8+0001 = 0x241fb;
	// 0xff7e+0x241fb = 0x34179 → 0x417c, complemented 0xbe83
	0x00, 0x00, 0x00, 0x01, // reserved; number of multicast address records 1
	0x06, 0x00, 0x00, 0x01, // BLOCK_OLD_SOURCES; aux data len 0; number of sources 1
	0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x00, 0x01, // ff3e::8000:1
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, // 2001:db8::1
}

var testMAC = [6]byte{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}

func TestUpdateVectors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report Report
		want   []byte
	}{
		{"IGMPv3 join", Join(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("232.1.1.1")), igmpJoinVector},
		{"MLDv2 leave", Leave(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("ff3e::8000:1")), mldLeaveVector},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := MembershipQuery{Nonce: 0x01020304, ResponseMAC: testMAC}.Update(tc.report)
			got, err := u.Append([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[:6], []byte("prefix")) || !bytes.Equal(got[6:], tc.want) {
				t.Fatalf("Append:\n got %x\nwant %x", got[6:], tc.want)
			}
			back, err := ParseUpdate(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			want := u
			want.Report.Source = unspecified(tc.report.MLD)
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("ParseUpdate = %+v, want %+v", back, want)
			}
		})
	}
}

// TestVectorChecksums checks the checksums in the vectors with onesSum.
func TestVectorChecksums(t *testing.T) {
	ip := igmpJoinVector[12:]
	if s := onesSum(ip[:24]); s != 0xffff {
		t.Errorf("IPv4 header sums to %#04x, want 0xffff", s)
	}
	if s := onesSum(ip[24:]); s != 0xffff {
		t.Errorf("IGMP report sums to %#04x, want 0xffff", s)
	}
	ip6 := mldLeaveVector[12:]
	mld := ip6[48:]
	pseudo := append(append(append([]byte{}, ip6[8:24]...), ip6[24:40]...), 0, 0, 0, byte(len(mld)), 0, 0, 0, 58)
	if s := onesSum(pseudo, mld); s != 0xffff {
		t.Errorf("MLD report with pseudo-header sums to %#04x, want 0xffff", s)
	}
}

func TestReportRoundTrip(t *testing.T) {
	s4, s6 := netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7")
	for _, r := range []Report{
		{},
		{MLD: true},
		{Source: netip.MustParseAddr("10.0.0.1"), Records: []GroupRecord{
			{Type: ModeIsInclude, Group: netip.MustParseAddr("232.0.0.1"), Sources: []netip.Addr{s4, netip.MustParseAddr("203.0.113.9")}},
			{Type: ModeIsExclude, Group: netip.MustParseAddr("239.1.2.3")},
			{Type: ChangeToIncludeMode, Group: netip.MustParseAddr("232.0.0.2"), Sources: []netip.Addr{s4}},
		}},
		{MLD: true, Source: netip.MustParseAddr("fe80::1"), Records: []GroupRecord{
			{Type: ModeIsInclude, Group: netip.MustParseAddr("ff3e::1"), Sources: []netip.Addr{s6}},
			{Type: ChangeToExcludeMode, Group: netip.MustParseAddr("ff15::2")},
		}},
	} {
		b, err := r.Append(nil)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		got, err := ParseReport(append(b, 0xde, 0xad)) // trailing octets are ignored
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		want := r
		if !want.Source.IsValid() {
			want.Source = unspecified(r.MLD)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
	}
}

func TestReportAppendRejects(t *testing.T) {
	g4, g6 := netip.MustParseAddr("232.1.1.1"), netip.MustParseAddr("ff3e::1")
	s4, s6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for name, r := range map[string]Report{
		"IPv6 group in IGMP":   {Records: []GroupRecord{{Type: AllowNewSources, Group: g6}}},
		"unicast group":        {Records: []GroupRecord{{Type: AllowNewSources, Group: s4}}},
		"mapped group in MLD":  {MLD: true, Records: []GroupRecord{{Type: AllowNewSources, Group: netip.MustParseAddr("::ffff:232.1.1.1")}}},
		"IPv6 source in IGMP":  {Records: []GroupRecord{{Type: AllowNewSources, Group: g4, Sources: []netip.Addr{s6}}}},
		"IPv4 source in MLD":   {MLD: true, Records: []GroupRecord{{Type: AllowNewSources, Group: g6, Sources: []netip.Addr{s4}}}},
		"record type 0":        {Records: []GroupRecord{{Group: g4}}},
		"record type 7":        {Records: []GroupRecord{{Type: 7, Group: g4}}},
		"IPv6 header source":   {Source: s6},
		"too long":             {Records: []GroupRecord{{Type: ModeIsInclude, Group: g4, Sources: make([]netip.Addr, 0x4000)}}},
		"too many sources MLD": {MLD: true, Records: []GroupRecord{{Type: ModeIsInclude, Group: g6, Sources: make([]netip.Addr, 5000)}}},
	} {
		if name == "too long" || name == "too many sources MLD" {
			for i := range r.Records[0].Sources {
				r.Records[0].Sources[i] = map[bool]netip.Addr{false: s4, true: s6}[r.MLD]
			}
		}
		b, err := Update{Report: r}.Append([]byte{1, 2})
		if !errors.Is(err, ErrReport) || !bytes.Equal(b, []byte{1, 2}) {
			t.Errorf("%s: Append = %x, %v; want the input back and ErrReport", name, b, err)
		}
	}
}

// fixChecksums recomputes the checksums of a Membership Update that a test
// edited, so that the parser gets past them to the field under test.
func fixChecksums(msg []byte) []byte {
	ip := msg[updateHeaderLen:]
	if ip[0]>>4 == 4 {
		ihl := int(ip[0]&0x0f) * 4
		ip[10], ip[11] = 0, 0
		c := checksum(sum(0, ip[:ihl]))
		ip[10], ip[11] = byte(c>>8), byte(c)
		igmp := ip[ihl:]
		igmp[2], igmp[3] = 0, 0
		c = checksum(sum(0, igmp))
		igmp[2], igmp[3] = byte(c>>8), byte(c)
		return msg
	}
	mld := ip[48:]
	mld[2], mld[3] = 0, 0
	c := checksum(sum(pseudoSum(ip[8:24], ip[24:40], protoICMPv6, len(mld)), mld))
	mld[2], mld[3] = byte(c>>8), byte(c)
	return msg
}

func TestParseUpdateRejects(t *testing.T) {
	edit := func(v []byte, f func(b []byte), fix bool) []byte {
		b := append([]byte(nil), v...)
		f(b)
		if fix {
			fixChecksums(b)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"short", igmpJoinVector[:11], ErrLength},
		{"wrong type", edit(igmpJoinVector, func(b []byte) { b[0] = 4 }, false), ErrType},
		{"IPv4 header checksum", edit(igmpJoinVector, func(b []byte) { b[12+11] ^= 1 }, false), ErrChecksum},
		{"IGMP checksum", edit(igmpJoinVector, func(b []byte) { b[len(b)-1] ^= 1 }, false), ErrChecksum},
		{"MLD checksum", edit(mldLeaveVector, func(b []byte) { b[len(b)-1] ^= 1 }, false), ErrChecksum},
		{"IPv4 truncated", igmpJoinVector[:len(igmpJoinVector)-1], ErrReport},
		{"IPv6 truncated", mldLeaveVector[:len(mldLeaveVector)-1], ErrReport},
		{"TTL 2", edit(igmpJoinVector, func(b []byte) { b[12+8] = 2 }, true), ErrReport},
		{"hop limit 255", edit(mldLeaveVector, func(b []byte) { b[12+7] = 255 }, true), ErrReport},
		{"no IPv4 Router Alert", edit(igmpJoinVector, func(b []byte) { b[12+20] = 1; b[12+21] = 1 }, true), ErrReport},
		{"no IPv6 Router Alert", edit(mldLeaveVector, func(b []byte) { b[12+42] = 1 }, true), ErrReport},
		{"IGMP to 224.0.0.1", edit(igmpJoinVector, func(b []byte) { b[12+19] = 1 }, true), ErrReport},
		{"MLD to ff02::1", edit(mldLeaveVector, func(b []byte) { b[12+39] = 1 }, true), ErrReport},
		{"IGMP query, not report", edit(igmpJoinVector, func(b []byte) { b[12+24] = 0x11 }, true), ErrReport},
		{"fragment", edit(igmpJoinVector, func(b []byte) { b[12+6] = 0x20 }, true), ErrFragment},
		{"two records announced", edit(igmpJoinVector, func(b []byte) { b[12+31] = 2 }, true), ErrReport},
		{"source count past end", edit(mldLeaveVector, func(b []byte) { b[12+59] = 2 }, true), ErrReport},
		{"unicast group", edit(igmpJoinVector, func(b []byte) { b[12+36] = 10 }, true), ErrReport},
		{"IP version 5", edit(igmpJoinVector, func(b []byte) { b[12] = 0x56 }, false), ErrReport},
	} {
		if _, err := ParseUpdate(tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestParseReportSkips checks that records of unknown type and auxiliary
// data are skipped (RFC 3376 §4.2.10, §4.2.12).
func TestParseReportSkips(t *testing.T) {
	g := netip.MustParseAddr("232.1.1.1")
	r := Report{Records: []GroupRecord{
		{Type: AllowNewSources, Group: g},
		{Type: BlockOldSources, Group: g},
	}}
	b, err := r.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Make the first record type 9, and give the second one word of aux data.
	igmp := b[24:]
	igmp[8] = 9
	b = append(b, 0xaa, 0xbb, 0xcc, 0xdd)
	b[3] += 4
	igmp = b[24:]
	igmp[8+8+1] = 1
	msg := fixChecksums(append([]byte{5, 0, 11: 0}, b...))
	got, err := ParseUpdate(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := []GroupRecord{{Type: BlockOldSources, Group: g}}
	if !reflect.DeepEqual(got.Report.Records, want) {
		t.Fatalf("records %+v, want %+v", got.Report.Records, want)
	}
}

func FuzzUpdate(f *testing.F) {
	f.Add(igmpJoinVector)
	f.Add(mldLeaveVector)
	for _, r := range []Report{
		{Records: []GroupRecord{{Type: ModeIsInclude, Group: netip.MustParseAddr("232.1.1.1"), Sources: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}}}},
		{MLD: true, Records: []GroupRecord{{Type: ModeIsExclude, Group: netip.MustParseAddr("ff0e::1")}, {Type: AllowNewSources, Group: netip.MustParseAddr("ff3e::1"), Sources: []netip.Addr{netip.MustParseAddr("2001:db8::1")}}}},
	} {
		b, _ := Update{Nonce: 7, Report: r}.Append(nil)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUpdate(b)
		if err != nil {
			return
		}
		// What parses must encode. The parser accepts what a relay must
		// (any reserved octet, IP identification, trailing octets, auxiliary
		// data, unknown record types) and the encoder writes one canonical
		// form: so the canonical form must parse back to the same value, and
		// re-encode to the same octets.
		enc, err := u.Append(nil)
		if err != nil {
			t.Fatalf("%x parses as %+v, which does not encode: %v", b, u, err)
		}
		u2, err := ParseUpdate(enc)
		if err != nil {
			t.Fatalf("%x re-encodes as %x, which does not parse: %v", b, enc, err)
		}
		if !reflect.DeepEqual(u, u2) {
			t.Fatalf("%x parses as %+v, re-encoded %x as %+v", b, u, enc, u2)
		}
		enc2, _ := u2.Append(nil)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
		if canonicalUpdate(b, enc) && !bytes.Equal(b, enc) {
			t.Fatalf("canonical %x re-encodes as %x", b, enc)
		}
	})
}

// canonicalUpdate reports whether b has the length of enc and the same
// octets wherever Update.Append writes a fixed value whose variation the
// parser tolerates; if so, b and enc must be identical.
func canonicalUpdate(b, enc []byte) bool {
	if len(b) != len(enc) || b[1] != 0 {
		return false
	}
	ip, eip := b[updateHeaderLen:], enc[updateHeaderLen:]
	if ip[0]>>4 == 4 {
		// version/IHL, ToS; identification, flags; the option; IGMP reserved
		// octets; the records' aux data lengths are implied by len and parse.
		return bytes.Equal(ip[:2], eip[:2]) && bytes.Equal(ip[4:8], eip[4:8]) &&
			bytes.Equal(ip[20:28], eip[20:28]) && bytes.Equal(ip[28:30], eip[28:30]) &&
			auxFree(ip[24:], 4, igmpRecordFixedLen)
	}
	return bytes.Equal(ip[:4], eip[:4]) && bytes.Equal(ip[40:52], eip[40:52]) &&
		bytes.Equal(ip[52:54], eip[52:54]) && auxFree(ip[48:], 16, mldRecordFixedLen)
}

// auxFree reports whether every record of report msg has a known type, no
// auxiliary data and a zero reserved field.
func auxFree(msg []byte, alen, fixed int) bool {
	if msg[1] != 0 {
		return false
	}
	rest := msg[reportHeaderLen:]
	for range int(msg[6])<<8 | int(msg[7]) {
		if rest[0] < 1 || rest[0] > 6 || rest[1] != 0 {
			return false
		}
		rest = rest[fixed+alen*(int(rest[2])<<8|int(rest[3])):]
	}
	return true
}
