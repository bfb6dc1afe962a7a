package amtrelay

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
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
		"tail": unsafe.Offsetof(r.tail) + unsafe.Sizeof(r.tail), "answerID": unsafe.Offsetof(r.answerID) + unsafe.Sizeof(r.answerID),
		"loadAt": unsafe.Offsetof(r.loadAt) + unsafe.Sizeof(r.loadAt),
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

// TestPlaceLine checks that a relay's place in a list is one cache line,
// and that a list's places start on one: the list reads them and not the
// relay (nearest.go).
func TestPlaceLine(t *testing.T) {
	if s := unsafe.Sizeof(place{}); s != 64 {
		t.Errorf("place is %d octets, not 64: keep what a list reads of a relay in one cache line", s)
	}
	// 1,000 places take more than 32 kB, which Go allocates from whole
	// pages: smaller lists may start anywhere, and stay in the caches.
	relays := make([]*relay, 1000)
	for i := range relays {
		var err error
		if relays[i], err = newRelay("r", amtrelayrr.Relay{Precedence: 1, Type: amtrelayrr.TypeIPv4, Addr: netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)})}, position{}); err != nil {
			t.Fatal(err)
		}
	}
	relays[3].down.Store(true)
	packDownFlags(relays)
	if !relays[3].down.Load() || relays[4].down.Load() {
		t.Error("packing the down flags lost a relay's state")
	}
	if relays[1].down.word != relays[2].down.word || relays[1].down.mask == relays[2].down.mask {
		t.Error("neighbouring relays' down flags are not bits of one word")
	}
	if d := uintptr(unsafe.Pointer(relays[32].down.word)) - uintptr(unsafe.Pointer(relays[0].down.word)); d != unsafe.Sizeof(atomic.Uint32{}) {
		t.Errorf("the words of packed down flags lie %d octets apart, not side by side", d)
	}
	relays[3].down.Store(false)
	ix := newNearIndex(relays)
	if a := uintptr(unsafe.Pointer(&ix.pl[0])); a%64 != 0 {
		t.Errorf("a list's places allocated at %#x, not on a cache line", a)
	}
	relays[7].down.Store(true)
	if !ix.pl[7].down.Load() || ix.pl[6].down.Load() {
		t.Error("a place does not see its relay's down flag")
	}
}

// TestInlineRDATA checks that the inline RDATA is the packed record's,
// its own and its place's in a list, for every type of relay, and that a
// name too long to hold inline is still packed whole.
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
		ix := newNearIndex([]*relay{r})
		for _, tail := range []*rdataTail{&r.tail, &ix.pl[0].tail} {
			got := r.appendRDATA([]byte{0xff}, tail, 3)[1:]
			if string(got) != string(want) || r.rdLength(tail) != len(want) {
				t.Errorf("%v: inline RDATA %x (RDLENGTH %d), want %x (%d)", rec, got, r.rdLength(tail), want, len(want))
			}
		}
		if inline := r.tail.n > 0; inline != (len(want)-1 <= rdataTailInline) {
			t.Errorf("%v: inline %v with %d octets after the precedence", rec, inline, len(want)-1)
		}
	}
}

// TestListRowLine checks that a location's list of relays, at the length
// an answer of 3 relays takes, is one cache line and starts on one (a
// large array of lists starts on a page): walking it for an answer reads
// one line (locationlists.go).
func TestListRowLine(t *testing.T) {
	const k = 3 + listMargin
	if row := uintptr(rowStride(k)) * unsafe.Sizeof(listEntry{}); row != 64 {
		t.Errorf("a list of %d relays takes %d octets, not 64: a list read in one line reads one", k, row)
	}
	places := make([]alignedPoint, 1000)
	for i := range places {
		places[i].point, _ = newPoint(float64(i%180)-89, float64(i%360)-179)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ll := buildLocationLists(&geoReader{}, newNearIndex(randomRelays(rng, 40, 0)), places, k)
	if a := uintptr(unsafe.Pointer(&ll.lists[0])); a%64 != 0 {
		t.Errorf("lists allocated at %#x, not on a cache line", a)
	}
	if ll.stride != entriesPerLine {
		t.Errorf("lists of %d relays lie %d entries apart, want %d", k, ll.stride, entriesPerLine)
	}
}

// TestDownFlagsShareWords sets and clears the flags of the relays sharing
// words from concurrent goroutines, as health checks do: no flag's
// change may be lost or touch another's (under -race too).
func TestDownFlagsShareWords(t *testing.T) {
	relays := make([]*relay, 70)
	for i := range relays {
		relays[i] = &relay{down: newDownFlag()}
	}
	packDownFlags(relays)
	var wg sync.WaitGroup
	for i, r := range relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 1000 {
				r.down.Store(n%2 == 0)
			}
			r.down.Store(i%3 == 0) // the final state
		}()
	}
	wg.Wait()
	for i, r := range relays {
		if r.down.Load() != (i%3 == 0) {
			t.Errorf("relay %d down %v, want %v", i, r.down.Load(), i%3 == 0)
		}
	}
}
