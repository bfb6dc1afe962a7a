package amtrelay

import (
	"net/netip"
	"testing"
	"unsafe"

	"github.com/amtrelay/amtrelay/amtrelayrr"
)

// TestRelayHotLine checks the relay's layout: what every answer reads
// lies in its first 64 octets, and its size is a multiple of 64, so that
// the allocator starts each relay on a cache line. A field added to the
// struct may need the padding at its end changed.
func TestRelayHotLine(t *testing.T) {
	var r relay
	if s := unsafe.Sizeof(r); s%64 != 0 {
		t.Errorf("relay is %d octets, not a multiple of 64: change the padding at the end of the struct by %d octets", s, 64-int(s)%64)
	}
	hot := map[string]uintptr{
		"down": unsafe.Offsetof(r.down) + unsafe.Sizeof(r.down), "drained": unsafe.Offsetof(r.drained) + 1,
		"tail": unsafe.Offsetof(r.tail) + unsafe.Sizeof(r.tail), "answered": unsafe.Offsetof(r.answered) + unsafe.Sizeof(r.answered),
		"packed": unsafe.Offsetof(r.packed) + unsafe.Sizeof(r.packed),
	}
	for name, end := range hot {
		if end > 64 {
			t.Errorf("relay.%s ends at octet %d, past the first cache line", name, end)
		}
	}
	for i := range 100 {
		p, err := newRelay("r", amtrelayrr.Relay{Precedence: 1, Type: amtrelayrr.TypeIPv4, Addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})}, position{})
		if err != nil {
			t.Fatal(err)
		}
		if a := uintptr(unsafe.Pointer(p)); a%64 != 0 {
			t.Fatalf("a relay allocated at %#x, not on a cache line", a)
		}
	}
}

// TestInlineRDATA checks that the inline RDATA is the packed record's,
// for every type of relay, and that a name too long to hold inline is
// still packed whole.
func TestInlineRDATA(t *testing.T) {
	long := "a-relay-name-longer-than-the-inline-copy.example.net."
	for _, rec := range []amtrelayrr.Relay{
		{Precedence: 7, Type: amtrelayrr.TypeIPv4, Addr: netip.MustParseAddr("192.0.2.1")},
		{Precedence: 7, DiscoveryOptional: true, Type: amtrelayrr.TypeIPv6, Addr: netip.MustParseAddr("2001:db8::1")},
		{Precedence: 7, Type: amtrelayrr.TypeName, Name: "r.example."},
		{Precedence: 7, Type: amtrelayrr.TypeName, Name: long},
	} {
		r, err := newRelay("r", rec, position{})
		if err != nil {
			t.Fatal(err)
		}
		want := r.packed.AppendRDATA(nil, 3)
		got := r.appendRDATA([]byte{0xff}, 3)[1:]
		if string(got) != string(want) || r.rdLength() != len(want) {
			t.Errorf("%v: inline RDATA %x (RDLENGTH %d), want %x (%d)", rec, got, r.rdLength(), want, len(want))
		}
		if inline := r.tail.n > 0; inline != (len(want)-1 <= rdataTailInline) {
			t.Errorf("%v: inline %v with %d octets after the precedence", rec, inline, len(want)-1)
		}
	}
}
