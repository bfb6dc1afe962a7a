package amt_test

import (
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/amt"
)

func TestQueryInterval(t *testing.T) {
	for _, tc := range []struct {
		qqic uint8
		want time.Duration
	}{
		{0, 125 * time.Second}, // RFC 3376 §8.2 default
		{1, time.Second},
		{125, 125 * time.Second},
		{127, 127 * time.Second},
		{0x80, 128 * time.Second},                 // (0|0x10) << 3
		{0x8f, 248 * time.Second},                 // (15|0x10) << 3
		{0x91, (17 << 4) * time.Second},           // exp 1
		{0xff, ((15 | 0x10) << 10) * time.Second}, // the largest: 31744 s
	} {
		for _, mld := range []bool{false, true} {
			q := amt.MembershipQuery{GeneralQuery: amt.GeneralQuery(mld, tc.qqic)}
			if got := q.QueryInterval(); got != tc.want {
				t.Errorf("QQIC %#x (mld %v): %v, want %v", tc.qqic, mld, got, tc.want)
			}
			if q.Robustness() != 2 {
				t.Errorf("QRV %d", q.Robustness())
			}
		}
	}
	if (amt.MembershipQuery{}).QueryInterval() != 125*time.Second {
		t.Error("no query: not the default")
	}
}
