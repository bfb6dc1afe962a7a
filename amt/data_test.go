package amt

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

var (
	testData4 = Data{
		Source: netip.MustParseAddr("192.0.2.1"), Group: netip.MustParseAddr("232.1.1.1"),
		SourcePort: 5000, DestPort: 5001, Payload: []byte("hello, multicast"),
	}
	testData6 = Data{
		Source: netip.MustParseAddr("2001:db8::1"), Group: netip.MustParseAddr("ff3e::8000:1"),
		SourcePort: 5000, DestPort: 5001, Payload: []byte("hello, multicast!"), // odd length
	}
)

func mustAppend(t testing.TB, d Data) []byte {
	t.Helper()
	b, err := d.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalData(a, b Data) bool {
	return a.Source == b.Source && a.Group == b.Group && a.SourcePort == b.SourcePort &&
		a.DestPort == b.DestPort && bytes.Equal(a.Payload, b.Payload)
}

// TestDataWire checks the IPv4 encoding field by field, and the checksums
// of both families with onesSum.
func TestDataWire(t *testing.T) {
	b := mustAppend(t, testData4)
	want := []byte{
		0x06, 0x00, // V=0, type 6; reserved
		0x45, 0x00, 0x00, 0x2c, // IPv4, IHL 5; ToS 0; total length 44 = 20 + 8 + 16
		0x00, 0x00, 0x00, 0x00, // identification; flags, fragment offset
		0x40, 0x11, // TTL 64; protocol 17 (UDP)
		b[12], b[13], // header checksum, checked below
		0xc0, 0x00, 0x02, 0x01, // source 192.0.2.1
		0xe8, 0x01, 0x01, 0x01, // group 232.1.1.1
		0x13, 0x88, 0x13, 0x89, // ports 5000, 5001
		0x00, 0x18, // UDP length 24
		b[28], b[29], // UDP checksum, checked below
	}
	want = append(want, "hello, multicast"...)
	if !bytes.Equal(b, want) {
		t.Fatalf("got  %x\nwant %x", b, want)
	}
	ip := b[2:]
	if s := onesSum(ip[:20]); s != 0xffff {
		t.Errorf("IPv4 header sums to %#04x", s)
	}
	pseudo4 := append(append([]byte{}, ip[12:20]...), 0, 17, 0, 24)
	if s := onesSum(pseudo4, ip[20:]); s != 0xffff {
		t.Errorf("UDP over IPv4 sums to %#04x", s)
	}

	b = mustAppend(t, testData6)
	ip = b[2:]
	if ip[0] != 0x60 || ip[6] != 17 || ip[7] != 64 || int(ip[4])<<8|int(ip[5]) != 8+17 {
		t.Fatalf("IPv6 header %x", ip[:8])
	}
	pseudo6 := append(append([]byte{}, ip[8:40]...), 0, 0, 0, 8+17, 0, 0, 0, 17)
	if s := onesSum(pseudo6, ip[40:]); s != 0xffff {
		t.Errorf("UDP over IPv6 sums to %#04x", s)
	}
}

func TestDataRoundTrip(t *testing.T) {
	for _, d := range []Data{
		testData4, testData6,
		{Source: netip.MustParseAddr("::ffff:10.1.1.1"), Group: netip.MustParseAddr("239.0.0.1")},
		{Source: netip.MustParseAddr("::"), Group: netip.MustParseAddr("ff02::1"), Payload: make([]byte, 1400)},
	} {
		b := mustAppend(t, d)
		got, err := ParseData(b)
		if err != nil {
			t.Fatalf("%v: %v", d.Group, err)
		}
		want := d
		want.Source = d.Source.Unmap()
		if !d.Group.Is4() {
			want.Source = d.Source
		}
		if !equalData(got, want) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
		if len(got.Payload) > 0 && &got.Payload[0] != &b[len(b)-len(got.Payload)] {
			t.Errorf("%v: payload is a copy, not a slice of the message", d.Group)
		}
	}
}

// setUDPChecksum rewrites the UDP checksum of a Multicast Data message
// without options or extension headers to c.
func setUDPChecksum(msg []byte, c uint16) []byte {
	off := 2 + 20 + 6
	if msg[2]>>4 == 6 {
		off = 2 + 40 + 6
	}
	msg[off], msg[off+1] = byte(c>>8), byte(c)
	return msg
}

// refix recomputes the IPv4 header checksum of a Data message after a
// test edited the header.
func refix(msg []byte) []byte {
	ip := msg[2:]
	ip[10], ip[11] = 0, 0
	c := checksum(sum(0, ip[:20]))
	ip[10], ip[11] = byte(c>>8), byte(c)
	return msg
}

func TestParseData(t *testing.T) {
	edit := func(d Data, f func(b []byte) []byte) []byte {
		return f(mustAppend(t, d))
	}
	// IPv4 without UDP checksum: zero means none (RFC 768).
	if d, err := ParseData(edit(testData4, func(b []byte) []byte { return setUDPChecksum(b, 0) })); err != nil || !equalData(d, testData4) {
		t.Errorf("IPv4 with zero UDP checksum: %+v, %v", d, err)
	}
	// IPv6 with a zero UDP checksum: a gateway that decapsulates itself
	// MUST NOT discard it (RFC 7450 §5.2.3.3, RFC 6936).
	if d, err := ParseData(edit(testData6, func(b []byte) []byte { return setUDPChecksum(b, 0) })); err != nil || !equalData(d, testData6) {
		t.Errorf("IPv6 with zero UDP checksum: %+v, %v", d, err)
	}
	// An IPv6 datagram with a Hop-by-Hop and a Destination Options header.
	ext := mustAppend(t, testData6)
	ext = append(ext[:2+40], append([]byte{60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0}, ext[2+40:]...)...)
	ext[2+6] = 0
	ext[2+5] += 16
	if d, err := ParseData(ext); err != nil || !equalData(d, testData6) {
		t.Errorf("IPv6 with extension headers: %+v, %v", d, err)
	}

	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"wrong type", edit(testData4, func(b []byte) []byte { b[0] = 5; return b }), ErrType},
		{"version 1", edit(testData4, func(b []byte) []byte { b[0] = 0x16; return b }), ErrVersion},
		{"empty", []byte{6, 0}, ErrLength},
		{"IP version 5", edit(testData4, func(b []byte) []byte { b[2] = 0x55; return b }), ErrDatagram},
		{"IPv4 header checksum", edit(testData4, func(b []byte) []byte { b[12] ^= 0x80; return b }), ErrChecksum},
		{"IPv4 UDP checksum", edit(testData4, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrChecksum},
		{"IPv6 UDP checksum", edit(testData6, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrChecksum},
		{"IPv4 MF", edit(testData4, func(b []byte) []byte { b[8] = 0x20; return refix(b) }), ErrFragment},
		{"IPv4 offset", edit(testData4, func(b []byte) []byte { b[9] = 1; return refix(b) }), ErrFragment},
		{"IPv6 fragment header", func() []byte {
			b := mustAppend(t, testData6)
			b = append(b[:2+40], append([]byte{17, 0, 0, 1, 0, 0, 0, 1}, b[2+40:]...)...)
			b[2+6] = 44
			b[2+5] += 8
			return b
		}(), ErrFragment},
		{"IPv4 TCP", edit(testData4, func(b []byte) []byte { b[11] = 6; return refix(b) }), ErrNotUDP},
		{"IPv6 routing header", edit(testData6, func(b []byte) []byte { b[2+6] = 43; return b }), ErrNotUDP},
		{"IPv4 unicast", edit(testData4, func(b []byte) []byte { b[18] = 10; return refix(b) }), ErrDatagram},
		{"IPv6 unicast", edit(testData6, func(b []byte) []byte { b[2+24] = 0x20; return b }), ErrDatagram},
		{"IPv4 truncated", edit(testData4, func(b []byte) []byte { return b[:len(b)-1] }), ErrLength},
		{"IPv4 trailing octet", edit(testData4, func(b []byte) []byte { return append(b, 0) }), ErrLength},
		{"IPv4 short header", edit(testData4, func(b []byte) []byte { return b[:2+19] }), ErrLength},
		{"IPv4 IHL 4", edit(testData4, func(b []byte) []byte { b[2] = 0x44; return b }), ErrLength},
		{"IPv6 truncated", edit(testData6, func(b []byte) []byte { return b[:len(b)-1] }), ErrLength},
		{"IPv6 jumbo", edit(testData6, func(b []byte) []byte { b[2+4], b[2+5] = 0, 0; return b }), ErrLength},
		{"UDP length", edit(testData4, func(b []byte) []byte { b[2+20+5]--; return b }), ErrLength},
		{"no UDP header", edit(Data{Source: testData4.Source, Group: testData4.Group}, func(b []byte) []byte {
			b = b[:2+20+4]
			b[2+3] = 24
			return refix(b)
		}), ErrLength},
	} {
		if _, err := ParseData(tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDataAppendRejects(t *testing.T) {
	for name, d := range map[string]Data{
		"no group":          {Source: testData4.Source},
		"unicast group":     {Source: testData4.Source, Group: testData4.Source},
		"mixed families":    {Source: testData6.Source, Group: testData4.Group},
		"mixed families v6": {Source: testData4.Source, Group: testData6.Group},
		"no source":         {Group: testData4.Group},
		"payload too long":  {Source: testData4.Source, Group: testData4.Group, Payload: make([]byte, MaxDataPayload+1)},
	} {
		if b, err := d.Append([]byte{9}); !errors.Is(err, ErrDatagram) || !bytes.Equal(b, []byte{9}) {
			t.Errorf("%s: Append = %x, %v; want the input back and ErrDatagram", name, b, err)
		}
	}
	// The largest payload fits.
	big := Data{Source: testData4.Source, Group: testData4.Group, Payload: make([]byte, MaxDataPayload)}
	if _, err := ParseData(mustAppend(t, big)); err != nil {
		t.Errorf("largest IPv4 payload: %v", err)
	}
}

func FuzzData(f *testing.F) {
	f.Add(mustAppend(f, testData4))
	f.Add(mustAppend(f, testData6))
	f.Add(setUDPChecksum(mustAppend(f, testData4), 0))
	f.Add(mustAppend(f, Data{Source: netip.MustParseAddr("::"), Group: netip.MustParseAddr("ff02::1")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseData(b)
		if err != nil {
			return
		}
		// The parser tolerates fields the encoder writes one way (reserved
		// octet, ToS, identification, DF, TTL, traffic class, flow label,
		// extension headers, a zero IPv4 UDP checksum): the canonical form
		// must parse back to the same value and re-encode to the same octets.
		enc, err := d.Append(nil)
		if err != nil {
			t.Fatalf("%x parses as %+v, which does not encode: %v", b, d, err)
		}
		d2, err := ParseData(enc)
		if err != nil {
			t.Fatalf("%x re-encodes as %x, which does not parse: %v", b, enc, err)
		}
		if !equalData(d, d2) {
			t.Fatalf("%x parses as %+v, re-encoded %x as %+v", b, d, enc, d2)
		}
		if enc2, _ := d2.Append(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
		if len(b) == len(enc) && canonicalData(b, enc) && !bytes.Equal(b, enc) {
			t.Fatalf("canonical %x re-encodes as %x", b, enc)
		}
	})
}

// canonicalData reports whether b, of the length of enc, has the octets
// that Data.Append writes as constants. The failing input that found the
// IPv6 zero checksum is pinned in testdata/fuzz/FuzzData/290559922232c5ea.
func canonicalData(b, enc []byte) bool {
	if b[1] != 0 || b[2] != enc[2] {
		return false
	}
	if b[2]>>4 == 4 {
		return bytes.Equal(b[3:4], enc[3:4]) && bytes.Equal(b[6:11], enc[6:11]) && !(b[28] == 0 && b[29] == 0)
	}
	// A zero UDP checksum over IPv6 is accepted (RFC 7450 §5.2.3.3, RFC
	// 6936) but never written.
	return bytes.Equal(b[2:6], enc[2:6]) && bytes.Equal(b[8:10], enc[8:10]) && !(b[48] == 0 && b[49] == 0)
}

func BenchmarkParseData(b *testing.B) {
	for _, tc := range []struct {
		name string
		d    Data
	}{
		{"IPv4", Data{Source: testData4.Source, Group: testData4.Group, SourcePort: 1, DestPort: 2, Payload: make([]byte, 1316)}},
		{"IPv6", Data{Source: testData6.Source, Group: testData6.Group, SourcePort: 1, DestPort: 2, Payload: make([]byte, 1316)}},
	} {
		msg := mustAppend(b, tc.d)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := ParseData(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
