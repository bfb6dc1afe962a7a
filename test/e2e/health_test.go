package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

// relayDies is scenario (c): relay 1a stops answering discovery; within
// the health settings (a probe a second, down after 2 failed rounds) both
// Network 1 instances drop it from their answers, and the gateway
// connects to 1b without trying 1a.
func (tb *testbed) relayDies(t *testing.T) {
	tb.relay1a.kill()
	t.Cleanup(func() {
		tb.relay1a = tb.restart(tb.relay1a)
	})
	start := time.Now()
	testenv.Eventually(t, "1a gone from both instances' answers", func() bool {
		return slices.Equal(rankedNow(t, dns1A), []string{"0 " + relay1b}) && slices.Equal(rankedNow(t, dns1B), []string{"0 " + relay1b})
	})
	t.Logf("1a left the answers %d ms after it stopped (health: interval 1s, timeout 500ms, down 2)", time.Since(start).Milliseconds())
	tb.flushS1(t)
	g := tb.connect(t, source1)
	logTimings(t, g)
	wantRelay(t, g, relay1b)
	if slices.Contains(g.tried(), relay1a) {
		t.Errorf("the gateway tried 1a, which the answer should have left out: %s", g.outcomes())
	}
}
