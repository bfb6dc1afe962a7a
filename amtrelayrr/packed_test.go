package amtrelayrr

import (
	"testing"

	"github.com/miekg/dns"
)

// TestPackedRR: a Packed relay's record at any precedence is the record
// Relay.RR makes for that precedence, for every relay type and D-bit, and
// packs as the errata-corrected vectors say.
func TestPackedRR(t *testing.T) {
	for _, s := range []string{"10 0 1 203.0.113.15", "10 1 1 203.0.113.15", "7 1 2 2001:db8::15", "128 0 3 amtrelays.example.com."} {
		r, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.PackOnce()
		if err != nil {
			t.Fatal(err)
		}
		if p.Relay().String() != r.String() {
			t.Errorf("%s: Relay() = %v", s, p.Relay())
		}
		hdr := dns.RR_Header{Name: "12.100.51.198.in-addr.arpa.", Class: dns.ClassINET, Ttl: 30}
		for _, prec := range []uint8{0, 1, 3, 4, 7, 10, 128, 255} {
			want := r
			want.Precedence = prec
			wantRR, err := want.RR(hdr)
			if err != nil {
				t.Fatal(err)
			}
			got := p.RR(hdr, prec)
			if got.String() != wantRR.String() {
				t.Errorf("%s at precedence %d: %v, want %v", s, prec, got, wantRR)
			}
			back, err := FromRR(got)
			if err != nil || back.String() != want.String() {
				t.Errorf("%s at precedence %d decodes to %v, %v", s, prec, back, err)
			}
			wire := p.AppendRDATA([]byte{0xff}, prec)[1:]
			wantWire, _ := want.Pack()
			if string(wire) != string(wantWire) || len(wire) != p.RDLength() {
				t.Errorf("%s at precedence %d: AppendRDATA %x (RDLength %d), want %x", s, prec, wire, p.RDLength(), wantWire)
			}
			if back, err := Unpack(wire); err != nil || back.String() != want.String() {
				t.Errorf("%s at precedence %d: AppendRDATA unpacks to %v, %v", s, prec, back, err)
			}
		}
	}
	if _, err := (Relay{Type: TypeIPv4}).PackOnce(); err == nil {
		t.Error("PackOnce of a type-1 relay without an address succeeded")
	}
}
