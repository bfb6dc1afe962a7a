package amtrelayrr

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// vectors are the errata-corrected RFC 8777 §4.3.2 and Appendix A examples
// (erratum 6218), from ../shared/reference/DRIAD-NOTES.md §1.
var vectors = []struct {
	presentation string
	rdata        string
}{
	{"10 0 1 203.0.113.15", "0a01cb00710f"},
	{"10 0 2 2001:db8::15", "0a0220010db8000000000000000000000015"},
	{"128 1 3 amtrelays.example.com.", "808309616d7472656c617973076578616d706c6503636f6d00"},
	{"128 0 3 amtrelays.example.com.", "800309616d7472656c617973076578616d706c6503636f6d00"},
	{"0 0 0 .", "0000"},
	{"10 1 3 amtrelays.example.com.", "0a8309616d7472656c617973076578616d706c6503636f6d00"},
	{"10 1 1 203.0.113.15", "0a81cb00710f"},
	{"0 1 2 2001:db8:100::2268", "008220010db8010000000000000000002268"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.presentation, func(t *testing.T) {
			r, err := Parse(v.presentation)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := r.Pack()
			if err != nil {
				t.Fatalf("Pack: %v", err)
			}
			if hex.EncodeToString(got) != v.rdata {
				t.Errorf("Pack = %x, want %s", got, v.rdata)
			}
			if r.Len() != len(got) {
				t.Errorf("Len = %d, packed %d octets", r.Len(), len(got))
			}
			want, _ := hex.DecodeString(v.rdata)
			back, err := Unpack(want)
			if err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			if back.String() != v.presentation {
				t.Errorf("Unpack.String = %q, want %q", back.String(), v.presentation)
			}
		})
	}
}

// TestMessageRoundTrip packs each vector into a whole DNS message with
// miekg/dns, through RR, and reads it back through UnpackMsg.
func TestMessageRoundTrip(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("12.100.51.198.in-addr.arpa.", dns.TypeAMTRELAY)
	for _, v := range vectors {
		r, _ := Parse(v.presentation)
		rr, err := r.RR(dns.RR_Header{Name: "12.100.51.198.in-addr.arpa.", Class: dns.ClassINET, Ttl: 60})
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	m.SetEdns0(1232, false)
	m.Compress = true
	raw, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnpackMsg(raw)
	if err != nil {
		t.Fatalf("UnpackMsg: %v", err)
	}
	if len(got.Answer) != len(vectors) {
		t.Fatalf("got %d answers, want %d", len(got.Answer), len(vectors))
	}
	for i, rr := range got.Answer {
		if rr.Header().Rrtype != dns.TypeAMTRELAY {
			t.Errorf("answer %d has type %d", i, rr.Header().Rrtype)
		}
		r, err := FromRR(rr)
		if err != nil {
			t.Fatalf("FromRR(%v): %v", rr, err)
		}
		if r.String() != vectors[i].presentation {
			t.Errorf("answer %d = %q, want %q", i, r, vectors[i].presentation)
		}
	}
	if got.IsEdns0() == nil {
		t.Error("OPT record lost")
	}
}

// TestUpstreamD1Bug pins the miekg/dns bug this package works around. When
// it fails, miekg/dns has been fixed: the workaround in rr.go and msg.go can
// go, and the plugin README's Bugs section must change.
func TestUpstreamD1Bug(t *testing.T) {
	rr, err := dns.NewRR("x. 60 IN AMTRELAY 10 1 1 203.0.113.15")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if rdata := hex.EncodeToString(buf[off-int(rr.Header().Rdlength) : off]); rdata != "0a81" {
		t.Errorf("miekg/dns packs 10 1 1 203.0.113.15 as %s: the upstream bug is gone, revisit the workaround", rdata)
	}

	m := new(dns.Msg)
	m.SetQuestion("x.", dns.TypeAMTRELAY)
	good, _ := ForAddr(10, true, netip.MustParseAddr("203.0.113.15")).RR(dns.RR_Header{Name: "x.", Class: dns.ClassINET})
	m.Answer = []dns.RR{good}
	raw, _ := m.Pack()
	if err := new(dns.Msg).Unpack(raw); err == nil {
		t.Error("miekg/dns now unpacks a correct D=1 record: the upstream bug is gone, revisit the workaround")
	}
}

func TestUnpackRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rdata string
		want  error
	}{
		{"empty", "", ErrShort},
		{"one octet", "0a", ErrShort},
		{"type 0 with relay", "000001", ErrLength},
		{"type 1 short", "0a01cb0071", ErrLength},
		{"type 1 long", "0a01cb00710f00", ErrLength},
		{"type 2 short", "0a0220010db8", ErrLength},
		{"type 3 no root", "0a0309616d7472656c617973", ErrShort},
		{"type 3 trailing", "0a0303636f6d0000", ErrLength},
		{"type 3 compressed", "0a03c00c", ErrCompressed},
		{"type 3 compressed after label", "0a0303636f6dc000", ErrCompressed},
		{"type 3 empty", "0a03", ErrShort},
		{"type 3 label past end", "0a033f616200", ErrShort},
		{"unknown type", "0a04deadbeef", ErrUnknownType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tc.rdata)
			_, err := Unpack(b)
			if !errors.Is(err, tc.want) {
				t.Errorf("Unpack(%s) error = %v, want %v", tc.rdata, err, tc.want)
			}
		})
	}
}

func TestUnknownTypeKeepsRaw(t *testing.T) {
	r, err := Unpack([]byte{5, 0x84, 1, 2, 3})
	if !errors.Is(err, ErrUnknownType) {
		t.Fatalf("err = %v", err)
	}
	if r.Type != 4 || !r.DiscoveryOptional || r.Precedence != 5 || hex.EncodeToString(r.Raw) != "010203" {
		t.Errorf("got %+v", r)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"10 0 1 2001:db8::15",       // IPv6 as type 1
		"10 0 2 203.0.113.15",       // IPv4 as type 2
		"10 0 3 203.0.113.15",       // address as a name
		"10 0 0 relay.example.",     // type 0 needs "."
		"256 0 1 203.0.113.15",      // precedence over 255
		"10 2 1 203.0.113.15",       // D-bit not 0 or 1
		"10 0 4 .",                  // undefined type
		"10 0 1",                    // missing relay
		"10 0 1 203.0.113.15 extra", // too many fields
		"10 0 1 ::ffff:203.0.113.15",
	} {
		if r, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, r)
		}
	}
}

func TestFromNativeRR(t *testing.T) {
	for _, v := range vectors {
		rr, err := dns.NewRR("x. 60 IN AMTRELAY " + v.presentation)
		if err != nil {
			t.Fatal(err)
		}
		r, err := FromRR(rr)
		if err != nil {
			t.Fatalf("FromRR(%v): %v", rr, err)
		}
		if r.String() != v.presentation {
			t.Errorf("FromRR = %q, want %q", r, v.presentation)
		}
	}
	if _, err := FromRR(&dns.A{Hdr: dns.RR_Header{Rrtype: dns.TypeA}}); !errors.Is(err, ErrNotAMTRELAY) {
		t.Errorf("FromRR(A) err = %v", err)
	}
}

func TestForAddr(t *testing.T) {
	if r := ForAddr(1, false, netip.MustParseAddr("::ffff:192.0.2.1")); r.Type != TypeIPv4 || r.Addr.String() != "192.0.2.1" {
		t.Errorf("mapped address: %+v", r)
	}
	if r := ForAddr(1, false, netip.MustParseAddr("2001:db8::1")); r.Type != TypeIPv6 {
		t.Errorf("IPv6: %+v", r)
	}
}

func TestUnpackMsgRejectsGarbage(t *testing.T) {
	for _, raw := range [][]byte{
		nil,
		make([]byte, 11),
		{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c},                         // answer name points at itself
		{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 4},                            // header cut short
		{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 4, 0, 1, 0, 0, 0, 0, 0, 9, 1}, // rdlength past end
	} {
		if _, err := UnpackMsg(raw); err == nil {
			t.Errorf("UnpackMsg(%x) succeeded", raw)
		}
	}
}
