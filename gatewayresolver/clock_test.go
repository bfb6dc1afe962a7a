package gatewayresolver

import "github.com/amtrelay/amtrelay/amt/amttest"

// manualClock is a Clock that moves only when a test advances it: every
// timer of a Session is tested without sleeping.
type manualClock = amttest.ManualClock

func newManualClock() *manualClock { return amttest.NewManualClock() }
