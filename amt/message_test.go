package amt

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

func TestDiscoveryWire(t *testing.T) {
	b := AppendDiscovery(nil, 0x01020304)
	if hex.EncodeToString(b) != "0100000001020304" {
		t.Fatalf("Discovery = %x", b)
	}
	n, err := ParseDiscovery(b)
	if err != nil || n != 0x01020304 {
		t.Fatalf("ParseDiscovery = %x, %v", n, err)
	}
}

func TestAdvertisementWire(t *testing.T) {
	for _, tc := range []struct {
		relay string
		hex   string
	}{
		{"192.0.2.1", "0200000001020304c0000201"},
		{"2001:db8::1", "020000000102030420010db8000000000000000000000001"},
	} {
		a := Advertisement{Nonce: 0x01020304, Relay: netip.MustParseAddr(tc.relay)}
		b := a.Append(nil)
		if hex.EncodeToString(b) != tc.hex {
			t.Errorf("Advertisement(%s) = %x, want %s", tc.relay, b, tc.hex)
		}
		got, err := ParseAdvertisement(b)
		if err != nil || got != a {
			t.Errorf("ParseAdvertisement = %+v, %v", got, err)
		}
	}
}

func TestParseAdvertisementRejects(t *testing.T) {
	good := Advertisement{Nonce: 7, Relay: netip.MustParseAddr("192.0.2.1")}.Append(nil)
	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"empty", nil, ErrLength},
		{"truncated", good[:11], ErrLength},
		{"13 octets", append(append([]byte(nil), good...), 0), ErrLength},
		{"version 1", append([]byte{0x12}, good[1:]...), ErrVersion},
		{"discovery", AppendDiscovery(nil, 7), ErrType},
	} {
		if _, err := ParseAdvertisement(tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRequestWire(t *testing.T) {
	b := Request{Nonce: 0xdeadbeef, MLD: true}.Append(nil)
	if hex.EncodeToString(b) != "03010000deadbeef" {
		t.Fatalf("Request = %x", b)
	}
	r, err := ParseRequest(b)
	if err != nil || !r.MLD || r.Nonce != 0xdeadbeef {
		t.Fatalf("ParseRequest = %+v, %v", r, err)
	}
}

func TestMembershipQueryRoundTrip(t *testing.T) {
	for _, mld := range []bool{false, true} {
		for _, gw := range []netip.AddrPort{{}, netip.MustParseAddrPort("192.0.2.9:4000"), netip.MustParseAddrPort("[2001:db8::9]:4000")} {
			q := MembershipQuery{Limit: true, ResponseMAC: [6]byte{1, 2, 3, 4, 5, 6}, Nonce: 42, GeneralQuery: GeneralQuery(mld, 125), Gateway: gw}
			b := q.Append(nil)
			got, err := ParseMembershipQuery(b, mld)
			if err != nil {
				t.Fatalf("mld=%v gw=%v: %v", mld, gw, err)
			}
			if !got.Limit || got.Nonce != 42 || got.ResponseMAC != q.ResponseMAC || got.Gateway != gw || len(got.GeneralQuery) != len(q.GeneralQuery) {
				t.Errorf("mld=%v gw=%v: got %+v", mld, gw, got)
			}
			if _, err := ParseMembershipQuery(b, !mld); !errors.Is(err, ErrQuery) {
				t.Errorf("mld=%v: query of the other protocol accepted: %v", mld, err)
			}
		}
	}
	q := MembershipQuery{Nonce: 1, GeneralQuery: GeneralQuery(false, 1)}.Append(nil)
	if got, _ := ParseMembershipQuery(q, false); got.Limit {
		t.Error("L flag set on a query without it")
	}
	if _, err := ParseMembershipQuery(q[:20], false); !errors.Is(err, ErrQuery) {
		t.Errorf("truncated query: %v", err)
	}
}

func TestNewNonceNonZero(t *testing.T) {
	seen := map[uint32]bool{}
	for range 1000 {
		n, err := NewNonce()
		if err != nil || n == 0 {
			t.Fatalf("NewNonce = %d, %v", n, err)
		}
		seen[n] = true
	}
	if len(seen) < 990 {
		t.Errorf("only %d distinct nonces in 1000", len(seen))
	}
}

func TestRetransmitDelayBounds(t *testing.T) {
	for n := range 12 {
		hi := min(1<<n, 120)
		for range 50 {
			d := retransmitDelay(n).Seconds()
			if d < 1 || d > float64(hi) {
				t.Fatalf("retransmitDelay(%d) = %vs, want in [1, %d]", n, d, hi)
			}
		}
	}
}

func FuzzParsers(f *testing.F) {
	f.Add(Advertisement{Nonce: 1, Relay: netip.MustParseAddr("192.0.2.1")}.Append(nil))
	f.Add(MembershipQuery{Nonce: 1, GeneralQuery: GeneralQuery(true, 1), Gateway: netip.MustParseAddrPort("[::1]:1")}.Append(nil))
	f.Add(MembershipQuery{Nonce: 1, GeneralQuery: GeneralQuery(false, 1)}.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := ParseAdvertisement(b); err == nil {
			if got := a.Append(nil); len(got) != len(b) {
				t.Fatalf("advertisement %x re-encodes as %x", b, got)
			}
		}
		_, _ = ParseMembershipQuery(b, false)
		_, _ = ParseMembershipQuery(b, true)
		_, _ = ParseDiscovery(b)
		_, _ = ParseRequest(b)
	})
}
