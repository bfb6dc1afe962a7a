package amtrelayrr

import (
	"bytes"
	"testing"
)

// FuzzUnpack checks that any RDATA either fails cleanly or survives a
// Pack/Unpack round trip unchanged.
func FuzzUnpack(f *testing.F) {
	for _, v := range vectors {
		r, _ := Parse(v.presentation)
		b, _ := r.Pack()
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0x03, 0xc0, 0x0c})
	f.Fuzz(func(t *testing.T, rdata []byte) {
		r, err := Unpack(rdata)
		if err != nil {
			return
		}
		again, err := r.Pack()
		if err != nil {
			t.Fatalf("Unpack(%x) = %v, which does not pack: %v", rdata, r, err)
		}
		// Names are case-preserving but escapes may differ; compare bytes.
		if !bytes.Equal(again, rdata) {
			t.Fatalf("round trip %x -> %v -> %x", rdata, r, again)
		}
	})
}

// FuzzUnpackMsg checks that no message makes UnpackMsg panic.
func FuzzUnpackMsg(f *testing.F) {
	f.Add([]byte{0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 4, 0, 1, 0, 0, 1, 4, 0, 1, 0, 0, 0, 60, 0, 6, 10, 0x81, 203, 0, 113, 15})
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := UnpackMsg(raw)
		if err != nil {
			return
		}
		for _, rr := range m.Answer {
			_, _ = FromRR(rr)
		}
	})
}
