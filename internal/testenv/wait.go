package testenv

import (
	"testing"
	"time"
)

// Patience is how long Eventually waits by default. It is generous on
// purpose: a condition that holds within milliseconds on an idle machine
// can take seconds on a loaded CI machine, and a test must not fail for
// that. Tests assert order and outcome, not speed.
const Patience = 30 * time.Second

// Eventually polls cond every 10 ms until it holds, and fails t, naming
// what, when it has not held within Patience.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, Patience)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
